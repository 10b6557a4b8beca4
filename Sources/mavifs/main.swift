print("mavifs")
