"""QuickBooks: Online (JournalEntry over its REST API) and Desktop (IIF files)."""
