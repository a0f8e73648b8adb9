"""Block Kit: every action/block/callback id and every message and modal ragft renders."""
