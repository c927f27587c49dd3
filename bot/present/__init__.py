"""Pure presentation shared by every surface: records in, JSON objects, text and charts out."""
