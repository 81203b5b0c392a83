print("lk-forwarder")
