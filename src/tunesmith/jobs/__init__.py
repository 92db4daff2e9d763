"""Jobs: whole pieces of work over runs and datasets (prepare, train, generate, evaluate into a report, compare,
rollstats, the demo). The only layer that ties families, training, evaluation, plots and audio together; the
command line (and any other face) parses its options and calls one job."""
