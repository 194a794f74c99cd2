"""Data-parallel training through the engines the ecosystem already has, chosen by one name.

    none           one device (the default)
    mirrored       tf.distribute.MirroredStrategy: every GPU of one host (or the CPU's logical devices)
    multi-worker   tf.distribute.MultiWorkerMirroredStrategy: several hosts, named in $TF_CONFIG
    data-parallel  keras.distribution.DataParallel on JAX: every local accelerator

Build, compile and fit inside `distribution_scope(name)`. The global batch stays what the config says; each
replica gets an equal share of it and gradients are summed across replicas, so one epoch on N replicas
follows one replica's training (BatchNorm statistics are synchronised across replicas under tf.distribute,
see `networks.batch_norm`).
"""

from __future__ import annotations

import contextlib
import os

from colorize_utils.config import DISTRIBUTE_MODES



def check_distribute(mode: str) -> None:
    """ValueError naming the allowed values for an unknown mode, or a mode the Keras backend cannot run."""
    import keras

    if mode not in DISTRIBUTE_MODES:
        raise ValueError(f"Unknown distribute mode {mode!r}; choose one of {', '.join(DISTRIBUTE_MODES)}.")
    backend = keras.backend.backend()
    if mode in ("mirrored", "multi-worker") and backend != "tensorflow":
        raise ValueError(f"--distribute {mode} uses tf.distribute and needs KERAS_BACKEND=tensorflow "
                         f"(now {backend}); on JAX use --distribute data-parallel.")
    if mode == "data-parallel" and backend != "jax":
        raise ValueError(f"--distribute data-parallel uses keras.distribution and needs KERAS_BACKEND=jax "
                         f"(now {backend}); on TensorFlow use --distribute mirrored.")
    if mode == "multi-worker" and not os.environ.get("TF_CONFIG"):
        raise ValueError("--distribute multi-worker needs $TF_CONFIG naming every worker and this one's index "
                         "(see docs/gpu.md, 'Training on several GPUs or hosts').")


_STRATEGIES: dict = {}  # one tf.distribute strategy per mode and process


def prepare_distribution(mode: str = "none"):
    """Create (once) the tf.distribute strategy of `mode`; None for the other modes.

    Call it before any TensorFlow work: MultiWorkerMirroredStrategy must exist before the first op runs
    ("Collective ops must be configured at program startup"). distribution_scope() calls it too.
    """
    check_distribute(mode)
    if mode not in ("mirrored", "multi-worker"):
        return None
    if mode not in _STRATEGIES:
        import tensorflow as tf

        if mode == "mirrored":
            # Every GPU; on a host without one, every logical CPU device (how the tests split a CPU in two).
            devices = (tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU"))
            _STRATEGIES[mode] = tf.distribute.MirroredStrategy([device.name for device in devices])
        else:
            _STRATEGIES[mode] = tf.distribute.MultiWorkerMirroredStrategy()
    return _STRATEGIES[mode]


@contextlib.contextmanager
def distribution_scope(mode: str = "none"):
    """Context in which models are built, compiled and fitted data-parallel; yields the replica count."""
    check_distribute(mode)
    if mode == "none":
        yield 1
    elif mode in ("mirrored", "multi-worker"):
        strategy = prepare_distribution(mode)
        with strategy.scope():
            yield strategy.num_replicas_in_sync
    else:
        import keras

        previous = keras.distribution.distribution()
        distribution = keras.distribution.DataParallel()
        keras.distribution.set_distribution(distribution)
        try:
            yield len(distribution.device_mesh.devices.reshape(-1))
        finally:
            keras.distribution.set_distribution(previous)


