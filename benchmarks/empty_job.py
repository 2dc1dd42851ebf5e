"""An empty Dagster job, run through the CLI by pipeline_benchmark.py: what start-up and a run's
bookkeeping cost on this machine, with no work."""

import dagster as dg


@dg.op
def nothing() -> None:
    pass


@dg.job
def empty_job() -> None:
    nothing()


defs = dg.Definitions(jobs=[empty_job])
