"""The thin layer that wires both halves into DVC: one function per stage, the stage entry
point, and the figures the stages draw."""
