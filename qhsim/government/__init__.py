"""Government: the provincial S&T department and prefecture governments, and their programmes."""
