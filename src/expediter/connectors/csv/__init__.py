"""Generic CSV back-office export: versioned layouts, a spreadsheet-safe writer and a reader."""
