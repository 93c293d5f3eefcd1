"""Controller side of network boot: the decision table, boot specs and loader configs."""
