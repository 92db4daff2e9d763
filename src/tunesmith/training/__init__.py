"""The one training loop (trainer), data parallelism (distributed), device-side data stores (stores) and run
directories (checkpoint). Knows no model: families give it a :class:`~tunesmith.training.trainer.Task`."""
