"""Work dossiers (hồ sơ công việc, Decree 30 Phụ lục V/VI): the yearly list, filing, export, deposit reminders."""
