"""The benchmark suite (性能基准): a data generator (`bench.generate`) and a runner (`bench/run`)."""
