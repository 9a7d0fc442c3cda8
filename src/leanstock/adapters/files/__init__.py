"""Spreadsheets in and out: CSV through polars, XLSX through openpyxl."""
