"""The paper's reproduction: its models, the experiments behind notebooks 02-08, the cGAN, the Turing test,
the clip metrics, the notebooks' helpers and their papermill runner."""
