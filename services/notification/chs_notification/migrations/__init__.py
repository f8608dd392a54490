"""SQL migrations of the notification database, applied in file-name order."""
