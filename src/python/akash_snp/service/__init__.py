"""Chores every server of the project does the same way: JSON logs, files reloaded on change."""
