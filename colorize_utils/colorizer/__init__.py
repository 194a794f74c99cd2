"""Training, calibrating and releasing the colorizer that ships (`train-colorizer`), and converting its
ImageNet encoder (`convert-encoder`)."""
