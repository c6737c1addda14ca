"""The `dxreport` command.

Everything the command prints is Vietnamese: the help of the group and of every command, click's
usage errors and section headings, progress, summaries and errors. The English original of an
error (click's message, an unexpected exception) is logged on the ``dxreport.cli`` logger, which
prints nothing unless logging is configured (the environment variable DXREPORT_DEBUG=1 does it).
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
import time
import unicodedata
from pathlib import Path

import click

import dxreport.imports  # noqa: F401 - first: marks the costly imports absent in this process
from dxreport.params import OUTPUTS_DIR, PROVINCE, ParamError

log = logging.getLogger("dxreport.cli")

DEBUG_ENV = "DXREPORT_DEBUG"

USAGE_PREFIX = "Cách dùng: "
OPTIONS_HEADING = "Tùy chọn"
COMMANDS_HEADING = "Lệnh"
OPTIONS_METAVAR = "[TÙY CHỌN]"
SUBCOMMAND_METAVAR = "LỆNH [TÙY CHỌN]..."
HELP_OPTION_HELP = "Hiện hướng dẫn này rồi thoát."
VERSION_OPTION_HELP = "Hiện phiên bản của dxreport rồi thoát."
VERSION_MESSAGE = "%(prog)s, phiên bản %(version)s"

# Statuses of a received file (store.SUBMISSION_STATUSES), as `ingest` prints them.
SUBMISSION_LABELS = {"accepted": "được nạp", "superseded": "đã có bản nộp lại thay thế", "rejected": "bị từ chối"}


def _nfc(text: object) -> str:
    return unicodedata.normalize("NFC", str(text))


def _echo_err(text: str) -> None:
    click.echo(_nfc(text), err=True)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fail(message: str) -> None:
    _echo_err(f"Lỗi: {_sentence(message)}")
    sys.exit(2)


# --------------------------------------------------------------------------- Vietnamese click


class HelpFormatter(click.HelpFormatter):
    """Click's help formatter with the usage line in Vietnamese."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE_PREFIX if prefix is None else prefix)


class Context(click.Context):
    formatter_class = HelpFormatter


class Option(click.Option):
    """An option whose bracketed extras (default, range, required) are in Vietnamese."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None or not hasattr(self, "get_help_extra"):
            return record
        extra = self.get_help_extra(ctx)
        items = []
        if "envvars" in extra:
            items.append(f"biến môi trường: {', '.join(extra['envvars'])}")
        if "default" in extra:
            items.append(f"mặc định: {extra['default']}")
        if "range" in extra:
            describe = getattr(self.type, "describe_range", None)
            items.append(describe() if describe else extra["range"])
        if "required" in extra:
            items.append("bắt buộc")
        text = self.help or ""
        if items:
            joined = "; ".join(items)
            text = f"{text}  [{joined}]" if text else f"[{joined}]"
        return record[0], text


class IntRangeParam(click.IntRange):
    """click.IntRange with Vietnamese metavar, range and error messages."""

    def get_metavar(self, *args, **kwargs) -> str:
        return "SỐ"

    def describe_range(self) -> str:
        if self.min is not None and self.max is not None:
            return f"từ {self.min} đến {self.max}"
        if self.min is not None:
            return f"từ {self.min} trở lên"
        if self.max is not None:
            return f"không quá {self.max}"
        return "mọi số nguyên"

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            log.info("click: %s", exc.message)
            try:
                number = int(value)
            except (TypeError, ValueError):
                self.fail(f"{_quote(value)} không phải là số nguyên.", param, ctx)
            self.fail(f"{number} không nằm trong khoảng cho phép ({self.describe_range()}).", param, ctx)


class PathParam(click.Path):
    """click.Path with Vietnamese metavar and error messages."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.vi_name = "thư mục" if not self.file_okay else "tệp" if not self.dir_okay else "đường dẫn"

    def get_metavar(self, *args, **kwargs) -> str:
        return {"thư mục": "THƯ_MỤC", "tệp": "TỆP"}.get(self.vi_name, "ĐƯỜNG_DẪN")

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            log.info("click: %s", exc.message)
            self.fail(self._reason(value), param, ctx)

    def _reason(self, value) -> str:
        shown = _quote(os.fsdecode(value) if isinstance(value, (bytes, os.PathLike)) else value)
        path = os.fsdecode(value) if isinstance(value, (bytes, os.PathLike)) else str(value)
        if not os.path.exists(path):
            return f"không có {self.vi_name} {shown}."
        if not self.file_okay and not os.path.isdir(path):
            return f"{shown} là một tệp, không phải thư mục."
        if not self.dir_okay and os.path.isdir(path):
            return f"{shown} là một thư mục, không phải tệp."
        if self.readable and not os.access(path, os.R_OK):
            return f"không có quyền đọc {self.vi_name} {shown}."
        if self.writable and not os.access(path, os.W_OK):
            return f"không có quyền ghi vào {self.vi_name} {shown}."
        return f"không dùng được {self.vi_name} {shown}."


class UnknownCommand(click.UsageError):
    """A command name the group does not have."""

    def __init__(self, name: str, possibilities: list[str], ctx: click.Context | None = None) -> None:
        super().__init__(f"No such command {name!r}.", ctx)
        self.command_name = name
        self.possibilities = difflib.get_close_matches(name, possibilities)


class ExtraArguments(click.UsageError):
    """Words after a command that takes only options."""

    def __init__(self, words: list[str], ctx: click.Context | None = None) -> None:
        super().__init__(f"Got unexpected extra arguments ({' '.join(map(str, words))})", ctx)
        self.words = [str(w) for w in words]


class _Vietnamese:
    """What the group and its commands share: Vietnamese usage line, headings and help option."""

    context_class = Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_HELP
        return option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if exc.ctx is None:
                exc.ctx = ctx
            raise

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for param in self.get_params(ctx):
            if isinstance(param, click.Argument):
                continue
            record = param.get_help_record(ctx)
            if record is not None:
                rows.append(record)
        if rows:
            with formatter.section(OPTIONS_HEADING):
                formatter.write_dl(rows)


class Command(_Vietnamese, click.Command):
    """A dxreport command: Vietnamese help; words it does not take are refused in Vietnamese."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        allowed = ctx.allow_extra_args
        ctx.allow_extra_args = True
        try:
            rest = super().parse_args(ctx, args)
        finally:
            ctx.allow_extra_args = allowed
        if rest and not allowed and not ctx.resilient_parsing:
            raise ExtraArguments(rest, ctx)
        return rest


class Group(_Vietnamese, click.Group):
    """The dxreport group: Vietnamese help, and every click error reported in Vietnamese."""

    command_class = Command

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section(COMMANDS_HEADING):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in commands])

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = click.utils.make_str(args[0])
        if (
            not ctx.resilient_parsing
            and not name.startswith("-")
            and self.get_command(ctx, name) is None
            and (ctx.token_normalize_func is None or self.get_command(ctx, ctx.token_normalize_func(name)) is None)
        ):
            raise UnknownCommand(name, self.list_commands(ctx), ctx)
        return super().resolve_command(ctx, args)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        if os.environ.get(DEBUG_ENV):
            _log_to_stderr()
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            log.info("click: Aborted!")
            _echo_err("Đã dừng.")
            sys.exit(1)
        except click.ClickException as exc:
            log.info("click: %s: %s", type(exc).__name__, exc.format_message())
            show_error(exc)
            sys.exit(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - the user reads Vietnamese, the log keeps the English
            log.error("lỗi ngoài dự kiến: %s: %s", type(exc).__name__, exc, exc_info=True)
            if os.environ.get(DEBUG_ENV):
                raise
            _echo_err(
                f"Lỗi: Lệnh dừng vì một lỗi ngoài dự kiến ({type(exc).__name__}). "
                f"Chạy lại với biến môi trường {DEBUG_ENV}=1 để xem chi tiết (bằng tiếng Anh)."
            )
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _log_to_stderr() -> None:
    """Show the dxreport loggers (English originals included) on stderr."""
    package = logging.getLogger("dxreport")
    if not any(isinstance(h, _StderrHandler) for h in package.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        package.addHandler(handler)
    package.setLevel(logging.DEBUG)


def _quote(value: object) -> str:
    return f"'{value}'"


def _param_hint(exc: click.BadParameter) -> str:
    hint = exc.param_hint
    if hint is None and exc.param is not None:
        return " / ".join(_quote(o) for o in (exc.param.opts or [exc.param.human_readable_name]))
    if isinstance(hint, str):
        return hint
    if hint:
        return " / ".join(_quote(h) for h in hint)
    return ""


def _suggest(possibilities) -> str:
    if not possibilities:
        return ""
    if len(possibilities) == 1:
        return f"; ý bạn là {_quote(possibilities[0])}?"
    return f"; ý bạn là một trong: {', '.join(_quote(p) for p in possibilities)}?"


def _option_of(ctx: click.Context | None, name: str) -> click.Option | None:
    if ctx is None:
        return None
    for param in ctx.command.get_params(ctx):
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


_CLICK_USAGE = {
    "Missing command.": "thiếu tên lệnh; các lệnh có ở mục “Lệnh” trong hướng dẫn.",
}


def error_message(exc: click.ClickException) -> str:
    """The Vietnamese sentence for one of click's errors (without the "Lỗi: " prefix)."""
    if isinstance(exc, click.NoSuchOption):
        return f"không có tùy chọn {_quote(exc.option_name)}{_suggest(exc.possibilities)}" + (
            "" if exc.possibilities else "."
        )
    if isinstance(exc, click.MissingParameter):
        kind = {"argument": "đối số", "option": "tùy chọn"}.get(
            exc.param.param_type_name if exc.param is not None else "", "tham số"
        )
        hint = _param_hint(exc)
        return f"thiếu {kind} {hint}." if hint else f"thiếu {kind}."
    if isinstance(exc, click.BadParameter):
        hint = _param_hint(exc)
        return f"giá trị không hợp lệ cho {hint}: {exc.message}" if hint else f"giá trị không hợp lệ: {exc.message}"
    if isinstance(exc, click.BadOptionUsage):
        option = _option_of(exc.ctx, exc.option_name)
        if option is not None and (option.is_flag or option.count):
            return f"tùy chọn {_quote(exc.option_name)} không nhận giá trị."
        if option is not None:
            return f"tùy chọn {_quote(exc.option_name)} cần một giá trị."
        return f"dùng tùy chọn {_quote(exc.option_name)} không đúng cách."
    if isinstance(exc, UnknownCommand) or type(exc).__name__ == "NoSuchCommand":
        name = getattr(exc, "command_name", "")
        return f"không có lệnh {_quote(name)}{_suggest(getattr(exc, 'possibilities', None))}" + (
            "" if getattr(exc, "possibilities", None) else "."
        )
    if isinstance(exc, ExtraArguments):
        return f"lệnh này chỉ nhận các tùy chọn, không nhận {', '.join(_quote(w) for w in exc.words)}."
    if isinstance(exc, click.UsageError):
        return _CLICK_USAGE.get(exc.message, "lệnh được gọi không đúng cách.")
    if isinstance(exc, click.FileError):
        return f"không mở được tệp {_quote(exc.ui_filename)}."
    return "lệnh không chạy được."


def show_error(exc: click.ClickException) -> None:
    """Print one of click's errors in Vietnamese, as click would: usage, hint, then the error."""
    ctx = getattr(exc, "ctx", None)
    no_args = getattr(click.exceptions, "NoArgsIsHelpError", None)
    if no_args is not None and isinstance(exc, no_args):
        _echo_err(ctx.get_help())
        return
    if isinstance(exc, click.UsageError) and ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"Xem '{ctx.command_path} {ctx.help_option_names[0]}' để biết cách dùng.\n"
        _echo_err(f"{ctx.get_usage()}\n{hint}")
    _echo_err(f"Lỗi: {_sentence(error_message(exc))}")


def _option(*decls, **attrs):
    attrs.setdefault("cls", Option)
    return click.option(*decls, **attrs)


# --------------------------------------------------------------------------- commands


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dxreport", message=VERSION_MESSAGE, help=VERSION_OPTION_HELP, cls=Option)
def main() -> None:
    """Báo cáo tháng về mức độ sử dụng các nền tảng số của Huế.

    Đọc các tệp báo cáo của đơn vị, kiểm tra số liệu, tính các chỉ số và lập báo cáo (HTML, PDF)
    cho toàn địa bàn và cho từng đơn vị.
    """


_month = _option("--month", required=True, metavar="YYYY-MM", help="Tháng báo cáo, ví dụ 2022-12.")
_inbox = _option(
    "--inbox",
    type=PathParam(file_okay=False, path_type=Path),
    default=None,
    help="Thư mục nhận báo cáo, mỗi tháng một thư mục con <YYYY-MM>/ (mặc định data/inbox; "
    "tháng không có thư mục thì dùng dữ liệu mẫu có sẵn).",
)
_outputs = _option(
    "--outputs",
    type=PathParam(file_okay=False, path_type=Path),
    default=None,
    help="Thư mục lưu báo cáo, kho dữ liệu và các tệp manifest (mặc định outputs/).",
)


@main.command()
@_month
@_option(
    "--unit",
    default="all",
    metavar="MÃ|tinh|all",
    help="Mã đơn vị trong params/units.csv (xem `dxreport units`), 'tinh' cho báo cáo toàn địa bàn (toàn tỉnh, "
    "từ 2025 toàn thành phố), hoặc 'all' cho mọi báo cáo (mặc định).",
)
@_inbox
@_outputs
@_option(
    "--sources",
    type=PathParam(dir_okay=False, path_type=Path),
    default=None,
    help="Tệp khai báo nguồn danh mục (mặc định params/sources.yaml).",
)
@_option("--offline", is_flag=True, help="Không tải danh mục từ mạng; dùng bản chụp tốt gần nhất.")
@_option(
    "--report-date",
    default=None,
    metavar="YYYY-MM-DD",
    help='Ngày ký ghi trên báo cáo ("<nơi ban hành>, ngày … tháng … năm …"), không trước ngày cuối tháng '
    "báo cáo và không sau hôm nay. Không ghi: ngày chạy nếu là số liệu thật chạy trong tháng sau tháng "
    'báo cáo; nếu không (dữ liệu mẫu, tháng cũ) để trống "ngày … tháng … năm 20…" để điền tay.',
)
@_option(
    "--workers",
    type=IntRangeParam(1, 64),
    default=None,
    help="Số tiến trình lập báo cáo song song (mặc định: số lõi CPU).",
)
@_option("--force", is_flag=True, help="Chạy lại mọi bước, kể cả các bước có đầu vào không đổi.")
@_option(
    "--scheduler",
    default=None,
    metavar="ĐỊA_CHỈ|local",
    help="Lập báo cáo trên một cụm Dask distributed: địa chỉ bộ điều phối (tcp://host:8786) hoặc 'local' "
    "để dựng LocalCluster trên máy này. Cần cài thêm: pip install 'dxreport[dask]'.",
)
@_option("--quiet", is_flag=True, help="Không hiện thanh tiến độ.")
@_option(
    "--wait",
    type=IntRangeParam(0, 86400),
    default=0,
    metavar="GIÂY",
    help="Khi một lần chạy khác đang dùng thư mục kết quả: đợi tối đa chừng ấy giây rồi mới chạy "
    "(mặc định 0: báo ngay và dừng).",
)
def run(month, unit, inbox, outputs, sources, offline, report_date, workers, force, scheduler, quiet, wait):
    """Chạy một tháng: tiếp nhận số liệu, tính chỉ số và lập báo cáo (mặc định của mọi đơn vị)."""
    from dxreport import runner

    start = time.perf_counter()
    try:
        manifest = runner.run_month(
            month,
            unit,
            inbox=inbox,
            outputs=outputs,
            sources=sources,
            offline=offline,
            report_date=report_date,
            workers=workers,
            force=force,
            scheduler=scheduler,
            progress=not quiet,
            wait=wait,
        )
    except ParamError as exc:
        _fail(str(exc))
    except runner.RunError as exc:
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(1)
    out = Path(manifest["parameters"]["outputs"])
    month_dir = out / month
    units = manifest["units"]
    ok = [c for c, u in units.items() if u["status"] in ("ok", "skipped")]
    unchanged = sum(1 for u in units.values() if u["status"] == "skipped")
    click.echo(
        f"Tháng {month}: {len(ok)}/{len(units)} báo cáo xong"
        + (f" ({unchanged} không đổi so với lần chạy trước)" if unchanged else "")
        + f" trong {time.perf_counter() - start:.1f} giây"
        + (" (DỮ LIỆU MẪU)" if manifest["sample"] else "")
        + "."
    )
    if PROVINCE in units and units[PROVINCE].get("pdf"):
        from dxreport.units import load_registry

        registry = load_registry()
        head = f"  Báo cáo toàn {registry.kind_word(registry.province(month).kind)}: "
        click.echo(f"{head}{month_dir / units[PROVINCE]['pdf']}")
        click.echo(f"{' ' * len(head)}{month_dir / units[PROVINCE]['html']}")
    click.echo(f"  Kiểm tra số liệu:  {month_dir / 'validation.csv'}")
    click.echo(f"  Danh mục báo cáo:  {out / 'index.html'}")
    if manifest.get("log"):
        click.echo(f"  Nhật ký lần chạy:  {month_dir / manifest['log']}")
    failed = manifest["failed"]
    if failed:
        click.echo(f"Không lập được báo cáo của: {', '.join(failed)} (xem {month_dir / 'failed'})", err=True)
        sys.exit(1)


@main.command()
@_month
@_inbox
@_outputs
@_option(
    "--offline", is_flag=True, help="Không tải danh mục từ mạng; đối chiếu tên nền tảng với bản chụp tốt gần nhất."
)
def ingest(month, inbox, outputs, offline):
    """Đọc, kiểm tra và nạp các tệp báo cáo của một tháng vào kho dữ liệu, không lập báo cáo."""
    from dxreport import steps

    from dxreport import lock, preflight
    from dxreport.paramfiles import check_params

    try:
        check_params()
        run_params = steps.run_params(month, PROVINCE, str(inbox or ""), str(outputs or OUTPUTS_DIR), offline=offline)
    except ParamError as exc:
        _fail(str(exc))
    try:
        preflight.check_outputs(run_params.outputs)
        with lock.hold(run_params.outputs, what="ingest"):
            click.echo(run_params.source().describe(), err=True)
            steps.scrape(run_params)
            result = steps.clean(run_params)
    except (preflight.PreflightError, lock.LockBusy) as exc:
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(1)
    counts = result.submissions["status"].value_counts().to_dict()
    click.echo(
        f"Tháng {month}: {len(result.submissions)} tệp từ {result.folder}"
        + (
            " — " + ", ".join(f"{counts[k]} {label}" for k, label in SUBMISSION_LABELS.items() if k in counts)
            if counts
            else ""
        )
        + "."
    )
    errors = int((result.issues["severity"] == "error").sum())
    warnings = int((result.issues["severity"] == "warning").sum())
    click.echo(f"  {errors} lỗi, {warnings} cảnh báo: {run_params.outputs / month / 'validation.csv'}")
    click.echo(f"                  {run_params.outputs / month / 'validation.html'}")
    from dxreport.intake import FEEDBACK_DIR, STATUS_LABELS

    track = result.tracker["status"].value_counts()
    click.echo(
        "  Nộp báo cáo: " + ", ".join(f"{label} {int(track.get(key, 0))}" for key, label in STATUS_LABELS.items())
    )
    for key in ("late", "missing", "rejected"):
        codes = result.tracker.loc[result.tracker["status"] == key, "unit"].tolist()
        if codes:
            click.echo(f"    {STATUS_LABELS[key]}: {', '.join(codes)}")
    feedback = result.feedback if result.feedback is not None else []
    click.echo(f"  Bản góp ý gửi đơn vị ({len(feedback)} tệp): {run_params.outputs / month / FEEDBACK_DIR}")


@main.command()
@_month
@_option("--unit", required=True, metavar="MÃ", help="Mã đơn vị báo cáo (xem `dxreport units`).")
@_option("-o", "--out", "out", type=PathParam(dir_okay=False, path_type=Path), required=True, help="Tệp .xlsx sẽ ghi.")
@_outputs
@_option("--force", is_flag=True, help="Ghi đè tệp đó nếu đã có.")
def template(month, unit, out, outputs, force):
    """Ghi biểu mẫu báo cáo (.xlsx) của một đơn vị cho một tháng, có điền sẵn.

    Chỉ gồm các trang đơn vị phải điền; các đơn vị cấp xã của địa bàn kèm mã (đơn vị cấp xã tự
    báo cáo thì chỉ có dòng của chính mình); các nền tảng đơn vị đã báo cáo tháng trước (lấy từ
    kho dữ liệu, nếu kho có tháng đó) và các nền tảng trong danh mục.
    """
    import duckdb

    from dxreport import store, template
    from dxreport.params import check_month_format, previous_month
    from dxreport.textnorm import format_month
    from dxreport.units import load_registry

    try:
        check_month_format(month)
    except ParamError as exc:
        _fail(str(exc))
    registry = load_registry()
    valid = [u.code for u in registry.reporting_units(month)]
    if not valid:
        _fail(f"không có đơn vị nào gửi báo cáo tháng {month}")
    if unit not in valid:
        from dxreport.intake import not_reporting

        reason, _ = not_reporting(unit, registry, month)
        _fail(f"mã đơn vị {unit!r} {reason}; các mã hợp lệ tháng {month}: {', '.join(valid)}")
    if out.suffix.lower() != ".xlsx":
        _fail(f"tệp {out} phải có đuôi .xlsx")
    if out.exists() and not force:
        _fail(f"tệp {out} đã có; dùng --force để ghi đè")
    warehouse = store.warehouse_path(outputs)
    try:
        previous = template.previous_platforms(warehouse, month, unit)
        snapshot = template.warehouse_catalog(warehouse)
    except (duckdb.Error, store.StoreError) as exc:
        click.echo(f"Cảnh báo: không đọc được kho dữ liệu {warehouse} ({exc}); nền tảng không được điền sẵn.", err=True)
        previous, snapshot = [], None
    path = template.write_template(month, unit, out, snapshot=snapshot, previous_platforms=previous)
    click.echo(str(path))
    before = format_month(previous_month(month))
    if previous:
        click.echo(f"  {len(previous)} nền tảng điền sẵn theo báo cáo tháng {before}.")
    else:
        click.echo(f"  Kho dữ liệu chưa có nền tảng của đơn vị tháng {before}: trang Nền tảng để trống.")


@main.command()
@_option(
    "--sources",
    type=PathParam(dir_okay=False, path_type=Path),
    default=None,
    help="Tệp khai báo nguồn danh mục (mặc định params/sources.yaml), ví dụ để thử một trang đã đổi.",
)
@_option("--offline", is_flag=True, help="Không tải từ mạng; dùng bản chụp tốt gần nhất.")
@_option(
    "--month",
    default=None,
    metavar="YYYY-MM",
    help="Nạp thêm bản chụp đang dùng, nhật ký tải và các thay đổi vào kho dữ liệu của tháng này.",
)
@_inbox
@_outputs
def scrape(sources, offline, month, inbox, outputs):
    """Tải ba danh mục nền tảng của Bộ TT&TT, lưu bản chụp theo ngày, in nhật ký tải và các thay đổi.

    Thoát với mã 1 khi không tải được một danh mục (bản chụp tốt gần nhất của nó vẫn được dùng).
    """
    from dxreport import catalog, steps

    try:
        if month:
            run_params = steps.run_params(
                month, PROVINCE, str(inbox or ""), str(outputs or OUTPUTS_DIR), str(sources or ""), offline
            )
            result = steps.scrape(run_params, fetch=not offline)
        else:
            result = catalog.scrape(sources, offline=offline)
    except (ParamError, catalog.CatalogError) as exc:
        _fail(str(exc))
    click.echo(f"Nguồn: {result.sources}")
    for c in result.catalogs:
        count = int((result.snapshot.platforms["catalog"] == c.catalog).sum())
        click.echo(
            f"{c.title} [{c.catalog}]: {catalog.OUTCOMES[c.outcome]}; "
            f"{count} nền tảng đang dùng, bản chụp ngày {catalog.vn_date(c.snapshot_date)}"
        )
        click.echo(f"  {c.message}")
        for p in c.pages:
            click.echo(
                f"  {p.status or '---'} {p.bytes:>9} B {p.seconds:6.2f} s  {len(p.attempts)} lần  {p.url}"
                + (f"  ({p.error})" if p.error else "")
            )
        if c.folder is not None:
            click.echo(f"  Lưu tại: {c.folder}")
    if len(result.changes):
        click.echo("Thay đổi so với bản chụp tháng trước:")
        for r in result.changes.itertuples():
            before = f" (trước đây: {r.previous_name})" if r.change == "renamed" else ""
            click.echo(f"  {catalog.CHANGES[r.change]}: [{r.catalog}] {r.name}{before}")
    else:
        click.echo("Không có thay đổi so với bản chụp tháng trước (hoặc chưa có bản chụp tháng trước).")
    if month:
        click.echo(f"Đã nạp vào kho dữ liệu: {steps.warehouse(run_params)}")
    if result.failed:
        click.echo(
            f"Không tải được: {', '.join(c.catalog for c in result.failed)} (vẫn dùng bản chụp tốt gần nhất)", err=True
        )
        sys.exit(1)


@main.command()
@_outputs
def index(outputs):
    """Lập lại tệp index.html trong thư mục kết quả: danh mục mọi tháng và mọi đơn vị.

    Thư mục kết quả phải có sẵn (do `dxreport run` hoặc `dxreport ingest` tạo ra).
    """
    from dxreport import site

    try:
        path = site.write_index((outputs or OUTPUTS_DIR).resolve())
    except site.OutputsFolderError as exc:
        _fail(str(exc))
    click.echo(str(path))


@main.command()
@_month
def units(month):
    """Liệt kê các đơn vị gửi báo cáo trong một tháng (các mã dùng được cho --unit)."""
    from dxreport.params import check_month_format
    from dxreport.units import load_registry

    try:
        check_month_format(month)
    except ParamError as exc:
        _fail(str(exc))
    registry = load_registry()
    province = registry.province(month)
    click.echo(f"{PROVINCE}\t{province.name} (toàn {registry.kind_word(province.kind)})")
    for unit in registry.reporting_units(month):
        click.echo(f"{unit.code}\t{unit.name}")


@main.command()
@_option(
    "--month",
    "months",
    multiple=True,
    metavar="YYYY-MM",
    help="Tháng cần tạo, có thể nêu nhiều lần (mặc định: mọi tháng mẫu).",
)
@_option(
    "-o",
    "--out",
    type=PathParam(file_okay=False, path_type=Path),
    required=True,
    help="Thư mục sẽ chứa các thư mục con <YYYY-MM>/ của tệp mẫu.",
)
def sample(months, out):
    """Ghi dữ liệu mẫu có sẵn (DỮ LIỆU MẪU) thành các tệp Excel, để xem hoặc để chạy thử."""
    from dxreport import sample as sample_mod
    from dxreport.params import check_month_format

    try:
        for m in months:
            check_month_format(m)
    except ParamError as exc:
        _fail(str(exc))
    written = sample_mod.generate(out, list(months) or None)
    click.echo(f"{sum(len(v) for v in written.values())} tệp mẫu trong {out}")


# --------------------------------------------------------------------------- mail


@main.group(cls=Group)
def mail() -> None:
    """Thư điện tử: nhận tệp báo cáo từ hộp thư, nhắc đơn vị, gửi góp ý và gửi báo cáo.

    Các lệnh gửi (remind, feedback, report) mặc định chỉ ghi thư thành tệp .eml trong
    outputs/<tháng>/mail/ và in bảng ai sẽ nhận gì; chỉ gửi thật khi có --send. Mỗi thư đã gửi
    được ghi lại và không gửi lại lần hai nếu không có --resend. Mật khẩu thư chỉ đọc từ biến môi
    trường ghi trong params/settings.yaml (mail.password_env).
    """


@mail.command()
@_month
@_inbox
def fetch(month, inbox):
    """Nhận các tệp .xlsx đính kèm thư của đơn vị vào thư mục nhận báo cáo của tháng."""
    from dxreport import mailbox
    from dxreport.paramfiles import check_params
    from dxreport.params import DATA_DIR, check_month_format

    try:
        check_params()
        check_month_format(month)
    except ParamError as exc:
        _fail(str(exc))
    _contact_warnings(month)
    root = Path(inbox) if inbox else DATA_DIR / "inbox"
    try:
        result = mailbox.fetch(month, inbox_root=root)
    except mailbox.MailError as exc:
        _fail(str(exc))
    click.echo(result.table())


_send = _option("--send", is_flag=True, help="Gửi thật qua máy chủ thư (không có: chỉ ghi tệp .eml để xem trước).")
_resend = _option("--resend", is_flag=True, help="Gửi lại cả những thư đã gửi trước đó.")


def _contact_warnings(month: str) -> None:
    """Say which contacts of params/contacts.csv do not fit the month (a unit that no longer
    reports, a reporting unit without an address), before any mail is read or written."""
    from dxreport import contacts
    from dxreport.units import load_registry

    registry = load_registry()
    for warning in contacts.load_contacts(registry=registry).check(registry, month):
        _echo_err(f"Cảnh báo: {warning}")


def _sending(command):
    """The options of a command that sends mail: --month, --outputs, --send, --resend."""
    return _month(_outputs(_send(_resend(command))))


_MAIL_KINDS = {"reminders": "nhắc nộp báo cáo", "feedback": "góp ý", "report": "gửi báo cáo"}


def _outgoing(kind: str, month, outputs, send: bool, resend: bool) -> None:
    from dxreport import outbox
    from dxreport.paramfiles import check_params
    from dxreport.params import check_month_format

    try:
        check_params()
        check_month_format(month)
    except ParamError as exc:
        _fail(str(exc))
    _contact_warnings(month)
    outputs = Path(outputs) if outputs else OUTPUTS_DIR
    try:
        messages = getattr(outbox, kind)(month, outputs=outputs)
        if not messages:
            click.echo(f"Tháng {month}: không có thư {_MAIL_KINDS[kind]} nào cần gửi.")
            return
        delivery = outbox.deliver(messages, month, outputs=outputs, send=send, resend=resend)
    except outbox.OutboxError as exc:
        done = getattr(exc, "delivery", None)
        if done is not None:
            click.echo(done.table())
        _fail(str(exc))
    click.echo(delivery.table())


@mail.command()
@_sending
def remind(month, outputs, send, resend):
    """Nhắc các đơn vị chưa gửi (hoặc bị từ chối) báo cáo tháng, kèm biểu mẫu của đơn vị."""
    _outgoing("reminders", month, outputs, send, resend)


@mail.command()
@_sending
def feedback(month, outputs, send, resend):
    """Gửi mỗi đơn vị có lỗi, cảnh báo bản góp ý và danh sách vấn đề của tệp đã gửi."""
    _outgoing("feedback", month, outputs, send, resend)


@mail.command()
@_sending
def report(month, outputs, send, resend):
    """Gửi báo cáo toàn địa bàn (PDF) và phụ lục tới các nơi nhận của tháng."""
    _outgoing("report", month, outputs, send, resend)


if __name__ == "__main__":  # pragma: no cover
    main()
