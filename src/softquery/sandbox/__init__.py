"""Starting, confining, limiting and talking to a child process that runs model code."""
