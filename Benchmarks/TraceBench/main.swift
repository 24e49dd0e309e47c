print("trace-bench: not built yet")
