"""Operations: backups and restores of the database and the stored files (Art 10)."""
