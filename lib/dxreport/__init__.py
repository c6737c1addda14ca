"""dxreport: the monthly report on the use of digital platforms (Sở TT&TT Thừa Thiên Huế)."""

__version__ = "0.1.0"
