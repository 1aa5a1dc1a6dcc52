"""In-app notifications and the e-mail outbox: new tasks, returned drafts, deadlines, replies."""
