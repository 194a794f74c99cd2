"""The runtime: everything `colorize`, the command line and clips need to colorize photos and clips with the
shipped model (pretrained/). It imports only the core modules below it: never training or the paper."""
