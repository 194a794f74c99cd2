"""What the colorizer's training and the paper's reproduction share: data sources and splits, tf.data
pipelines, losses, the one training loop, multi-device training, evaluation tables and records."""
