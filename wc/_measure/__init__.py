"""CWMB's measures of a program: its accuracy on recorded data and its normalized return."""
