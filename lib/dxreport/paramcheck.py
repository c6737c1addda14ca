"""Reading the params/ files with the line of every key.

`read_yaml` parses a YAML file into a `YamlDoc`: the data (as yaml.safe_load gives it) and
the node tree of yaml.compose, so that a message can name the line of a key. Invalid YAML and a
key written twice in one mapping are refused in one sentence naming the file, the line and the
column. `YamlDoc.fail` raises the loader's own error type ("<file>, dòng N: …").

The rules of each file are written once, in the loader that reads the file:
params.load_settings (settings.yaml), kpis.load_targets (targets.yaml), kpis.load_rules
(lagging.yaml), check_aliases here (platform_aliases.yaml), catalog.load_sources
(sources.yaml), units.read_registry (units.csv) and catalog.thresholds (settings.yaml,
section catalog). dxreport.paramfiles.check_params calls every one of them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

from dxreport.paths import PARAMS_DIR, ParamError, shown_path as shown
from dxreport.textnorm import fold

Key = str | int


def _mapping_items(node: yaml.Node) -> list[tuple[yaml.Node, yaml.Node]]:
    return node.value if isinstance(node, yaml.MappingNode) else []


@dataclass
class YamlDoc:
    """A parsed YAML file: its data and, for messages, the line of every key."""

    path: Path
    data: object
    root: yaml.Node | None
    error: type[Exception] = ParamError

    @property
    def name(self) -> str:
        return shown(self.path)

    def _node(self, keys: Iterable[Key]) -> tuple[yaml.Node | None, int]:
        """The value node at `keys` (None if missing) and the line of the deepest key found."""
        node, line = self.root, (self.root.start_mark.line + 1 if self.root is not None else 1)
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                found = [
                    (k, v) for k, v in _mapping_items(node) if isinstance(k, yaml.ScalarNode) and k.value == str(key)
                ]
                if not found:
                    return None, line
                k, node = found[-1]
                line = k.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                return None, line
        return node, line

    def line(self, *keys: Key) -> int:
        """The line (from 1) of the key at `keys`; for a missing key, that of its nearest parent."""
        return self._node(keys)[1]

    def where(self, *keys: Key) -> str:
        """`<file>, dòng N`."""
        return f"{self.name}, dòng {self.line(*keys)}"

    def fail(self, keys: Iterable[Key], message: str) -> None:
        """Raise the loader's error: `<file>, dòng N: message`."""
        raise self.error(f"{self.where(*keys)}: {message}")


def _duplicate_key(node: yaml.Node | None) -> tuple[str, int, int] | None:
    """The first key written twice in a mapping: (key, line of the second, line of the first)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    return key.value, key.start_mark.line + 1, seen[key.value]
                seen[key.value] = key.start_mark.line + 1
            found = _duplicate_key(value)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _duplicate_key(item)
            if found:
                return found
    return None


def yaml_error(path: Path | str, exc: yaml.YAMLError | UnicodeDecodeError) -> str:
    """One sentence for a file that is not YAML: the file, the line and column, what is wrong."""
    if isinstance(exc, UnicodeDecodeError):
        return f"{shown(path)}: tệp không phải văn bản UTF-8 (byte thứ {exc.start + 1})"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if mark is None:
        mark, problem, context, context_mark = context_mark, context, None, None
    problem = problem or str(exc).splitlines()[0]
    where = f", dòng {mark.line + 1}, cột {mark.column + 1}" if mark is not None else ""
    if context and context_mark is not None and (context_mark.line, context_mark.column) != (mark.line, mark.column):
        problem += f"; {context}: dòng {context_mark.line + 1}, cột {context_mark.column + 1}"
    return f"{shown(path)}{where}: không phải YAML hợp lệ ({problem})"


#: libyaml's loader when PyYAML was built with it (the same documents, about ten times faster).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# text -> (node tree, data): a process reads the same few files many times (settings.yaml above all)
_PARSED: dict[str, tuple[yaml.Node | None, object]] = {}


def _load(text: str, loader_class) -> tuple[yaml.Node | None, object]:
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def _parse(text: str) -> tuple[yaml.Node | None, object]:
    """The node tree and the data of one YAML document, parsed once per text and process.

    Every call gets its own copy of the data, so a caller that changes it changes nobody else's.
    """
    if text not in _PARSED:
        try:
            root, data = _load(text, _LOADER)
        except yaml.YAMLError:
            root, data = _load(text, yaml.SafeLoader)  # PyYAML's own wording of what is wrong
        if len(_PARSED) >= 32:
            _PARSED.clear()
        _PARSED[text] = (root, data)
    root, data = _PARSED[text]
    return root, copy.deepcopy(data)


def read_yaml(path: Path | str, error: type[Exception] = ParamError, text: str | None = None) -> YamlDoc:
    """Parse a YAML file (or `text`, read from it) with the lines of its keys; `error` if it is not YAML."""
    path = Path(path)
    try:
        if text is None:
            text = path.read_bytes().decode("utf-8")
        root, data = _parse(text)
    except OSError as exc:
        raise error(f"không đọc được tệp {shown(path)}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(yaml_error(path, exc)) from None
    doc = YamlDoc(path, data, root, error)
    duplicate = _duplicate_key(root)
    if duplicate:
        key, line, first = duplicate
        raise error(f"{doc.name}, dòng {line}: khóa {key} viết hai lần (lần đầu ở dòng {first})")
    return doc


# --------------------------------------------------------------------------- small rules shared by the loaders


def check_mapping(doc: YamlDoc, keys: tuple[Key, ...], allowed: Iterable[str], *, label: str | None = None) -> dict:
    """The mapping at `keys` (missing: {}); refuse a non-mapping or a key not in `allowed`."""
    value = doc.data
    for key in keys:
        value = (
            value.get(key)
            if isinstance(value, dict)
            else (value[key] if isinstance(value, list) and isinstance(key, int) and key < len(value) else None)
        )
    name = label or ".".join(map(str, keys)) or "nội dung tệp"
    if value is None:
        return {}
    if not isinstance(value, dict):
        doc.fail(keys, f"{name} phải là một bảng khóa: giá trị")
    allowed = list(allowed)
    for key in value:
        if str(key) not in allowed:
            doc.fail((*keys, key), f"khóa {_dotted(keys, key)} không được hỗ trợ; chỉ nhận: {', '.join(allowed)}")
    return value


def _dotted(keys: tuple[Key, ...], key: Key) -> str:
    parts = [str(k) if not isinstance(k, int) else f"[{k + 1}]" for k in (*keys, key)]
    return ".".join(parts).replace(".[", "[")


# --------------------------------------------------------------------------- platform_aliases.yaml

ALIAS_ID = r"^(cq|dn|nd)-[a-z0-9][a-z0-9-]*$"


def check_aliases(params_dir: Path = PARAMS_DIR) -> dict[str, str]:
    """params/platform_aliases.yaml, checked: {alias as written: platform id}.

    `aliases` maps each alias (text) to a platform id (cq-…, dn-… or nd-…); two aliases that
    are one once folded (case, diacritics, spaces) must name the same platform.
    """
    import re

    doc = read_yaml(Path(params_dir) / "platform_aliases.yaml")
    aliases = check_mapping(doc, (), ("aliases",)).get("aliases")
    if aliases is None:
        doc.fail(("aliases",), "thiếu khóa aliases (bảng tên gọi khác: mã nền tảng)")
    if not isinstance(aliases, dict):
        doc.fail(("aliases",), "aliases phải là một bảng tên gọi khác: mã nền tảng")
    out: dict[str, str] = {}
    folded: dict[str, tuple[str, str]] = {}
    for alias, pid in aliases.items():
        where = ("aliases", alias)
        if not isinstance(alias, str) or not alias.strip():
            doc.fail(where, f"tên gọi khác {alias!r} phải là chữ, không rỗng")
        if not isinstance(pid, str) or not re.match(ALIAS_ID, pid):
            doc.fail(
                where,
                f"mã nền tảng của “{alias}” phải có dạng cq-…, dn-… hoặc nd-… (chữ thường, số, "
                f"gạch nối), không phải {pid!r}",
            )
        key = fold(alias)
        if key in folded and folded[key][1] != pid:
            other, other_id = folded[key]
            doc.fail(
                where,
                f"“{alias}” và “{other}” là một tên gọi (không kể hoa thường, dấu, khoảng trắng) "
                f"nhưng ứng với hai nền tảng khác nhau: {pid}, {other_id}",
            )
        folded.setdefault(key, (alias, pid))
        out[alias] = pid
    return out
