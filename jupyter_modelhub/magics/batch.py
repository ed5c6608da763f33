"""The batch scoring magics: ``%batch`` runs a job with a live progress bar, ``%batch-endpoint``
saves a reusable configuration, ``%batch-endpoints``, ``%jobs`` and ``%job ID`` show them.

The flags carry Azure's batch deployment settings under Azure's names (``--mini-batch-size``,
``--max-concurrency``, ``--error-threshold``, ...) with Azure's defaults.
"""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics, pairs
from .schedules import check_schedule_arguments, save_batch_schedule, schedule_arguments


def settings_arguments(magic):
    """The settings flags %batch and %batch-endpoint share (Azure's names and defaults)."""
    for flag, options in reversed(
        [
            (
                "--entry-script",
                {"help": "an Azure batch entry script: init() and run(mini_batch) -> DataFrame or list"},
            ),
            ("--mini-batch-size", {"type": int, "help": "files per mini-batch (default 10)"}),
            ("--max-concurrency", {"type": int, "help": "mini-batches at once per worker (default 1)"}),
            ("--output-action", {"choices": ["append_row", "summary_only"], "help": "default append_row"}),
            ("--output-file-name", {"help": "default predictions.csv (.csv, .parquet or .jsonl)"}),
            ("--error-threshold", {"type": int, "help": "failed files tolerated; -1 (default) ignores failures"}),
            ("--max-retries", {"type": int, "help": "retries of a failed mini-batch (default 3)"}),
            ("--timeout", {"type": float, "help": "seconds per mini-batch (default 30)"}),
            ("--env", {"metavar": "NAME", "help": "a registered environment (NAME[:VERSION]) the Dask workers run in"}),
            (
                "--env-var",
                {
                    "action": "extend",
                    "nargs": "+",
                    "default": [],
                    "metavar": "K=V",
                    "help": "environment variables for init() and run()",
                },
            ),
            ("--workers", {"type": int, "help": "processes of the job's own Dask LocalCluster (default 1)"}),
            (
                "--scheduler",
                {"help": "tcp://HOST:PORT of an existing Dask scheduler instead (its workers need not see this disk)"},
            ),
        ]
    ):
        magic = argument(flag, **options)(magic)
    return magic


def settings_of(args) -> dict:
    settings = {
        "mini_batch_size": args.mini_batch_size,
        "max_concurrency": args.max_concurrency,
        "output_action": args.output_action,
        "output_file_name": args.output_file_name,
        "error_threshold": args.error_threshold,
        "max_retries": args.max_retries,
        "timeout": args.timeout,
        "env_vars": pairs(args.env_var, "--env-var") or None,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "environment": args.env,
    }
    if args.workers is not None and args.scheduler:
        raise UsageError("Give --workers (the job starts its own cluster) or --scheduler (an existing one), not both.")
    return {k: v for k, v in settings.items() if v is not None}


@magics_class
class BatchMagics(ModelHubMagics):
    """Score files in batch, locally, with Azure's settings."""

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        # names with a hyphen, as the issue and Azure's CLI spell them
        self.magics["line"]["batch-endpoint"] = self.magics["line"].pop("batch_endpoint")
        self.magics["line"]["batch-endpoints"] = self.magics["line"].pop("batch_endpoints")

    @magic_arguments()
    @argument("target", help="a model (NAME, NAME:VERSION, NAME@ALIAS) or a batch endpoint's name")
    @argument("inputs", nargs="*", help="files, folders or globs (CSV, Parquet, JSON lines), local or s3://")
    @argument("--output", "-o", help="output folder or s3://BUCKET/PREFIX/ (default batch-outputs/<model>-<job>)")
    @argument("--overwrite", action="store_true", help="replace the output file if it exists (else refused)")
    @settings_arguments
    @argument("--resume", type=int, metavar="JOB", help="reuse the mini-batches a failed job already finished")
    @argument("--no-wait", action="store_true", help="return the job at once")
    @line_magic
    def batch(self, line: str):
        """Score files with a model or a batch endpoint: ``%batch churn@production data/*.parquet``.

        The job runs on the server (a kernel restart does not stop it) as a papermill run of the
        scoring notebook, its mini-batches on Dask workers; the executed notebook is its log.
        """
        args = self._parse(self.batch, line)
        if not args.inputs and not args.resume:
            raise UsageError("Give the files to score: %batch MODEL INPUTS... (files, folders or globs).")
        job = self._call(
            self.hub.batch,
            args.target,
            args.inputs,
            output=args.output,
            overwrite=args.overwrite,
            entry_script=args.entry_script,
            resume=args.resume,
            wait=False,
            **settings_of(args),
        )
        if args.no_wait:
            return job
        return self._wait(job, f"batch {args.target}")

    @magic_arguments()
    @argument("name", help="the batch endpoint's name")
    @argument("model", help="NAME, NAME:VERSION or NAME@ALIAS")
    @settings_arguments
    @argument("--description", "-d", default="", help="what it is for")
    @schedule_arguments
    @line_magic
    def batch_endpoint(self, line: str):
        """Save a reusable batch configuration: ``%batch-endpoint churn-nightly churn@production
        --mini-batch-size 5``; ``%batch churn-nightly data/`` runs it. Saving again adds a version.
        With ``--schedule "0 2 * * *" --inputs data/*.parquet`` the server also runs it at those
        times (schedule NAME: ``%schedule``); the schedule is returned."""
        args = self._parse(self.batch_endpoint, line)
        check_schedule_arguments(args)
        saved = self._call(
            self.hub.save_batch_endpoint,
            args.name,
            str(self._ref(args.model)),
            entry_script=args.entry_script,
            description=args.description,
            **settings_of(args),
        )
        if not args.schedule:
            return saved
        return self._call(save_batch_schedule, self.hub, args)

    @magic_arguments()
    @argument("--delete", metavar="NAME", help="delete this batch endpoint (every version)")
    @line_magic
    def batch_endpoints(self, line: str = ""):
        """List batch endpoints (their newest versions)."""
        args = self._parse(self.batch_endpoints, line)
        if args.delete:
            return self._call(self.hub.delete_batch_endpoint, args.delete)
        return self._call(self.hub.batch_endpoints)

    @magic_arguments()
    @argument("--status", "-s", help="queued, running, succeeded, failed or cancelled (comma-separated)")
    @argument("--limit", "-n", type=int, default=20, help="how many of the newest (default 20)")
    @line_magic
    def jobs(self, line: str = ""):
        """List batch jobs, newest first."""
        args = self._parse(self.jobs, line)
        if not 1 <= args.limit <= 500:
            raise UsageError("--limit takes 1 to 500.")
        return self._call(self.hub.jobs, status=args.status, per_page=args.limit)

    @magic_arguments()
    @argument("id", type=int, help="the job's number, as %%jobs shows it")
    @argument("--cancel", action="store_true", help="stop it, its kernel and its workers")
    @argument("--wait", action="store_true", help="wait for it with a progress bar")
    @argument("--log", action="store_true", help="print its operation log")
    @line_magic
    def job(self, line: str):
        """One job: progress, the per-mini-batch table, the output and the executed notebook."""
        args = self._parse(self.job, line)
        job = self._call(self.hub.job, args.id)
        if args.cancel:
            return self._call(job.cancel)
        if args.log:
            print(self._call(job.log), end="")
            return None
        if args.wait and job["active"]:
            return self._wait(job, f"batch {job['endpoint'] or job['model']}")
        return job
