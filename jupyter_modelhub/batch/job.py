"""The scoring notebook's side of a batch job: what each cell of ``scoring.ipynb`` calls.

The operation's worker writes the job's plan (``job.json``) and starts the Dask cluster; the
notebook, run by papermill in one kernel for the whole job, shows the settings, sends the
mini-batches to the cluster (``max_concurrency`` per worker at a time), enforces the timeout,
retries and the error threshold, and shows what happened: a summary, the per-mini-batch table
and every error with its traceback. The executed notebook is the job's log.

Everything the server needs is written as files in the job's folder: ``events.jsonl``
(progress), ``mini-batches.json`` (the table, rewritten as it changes) and ``outcome.json``.

Retries are for failures that may pass next time (a lost worker, a timeout, an exception of the
user's code, a store that did not answer); an error the same input repeats (a file that is not a
table, a missing column, a dtype the scorer rejects, run() returning None) is not retried, and
the table says so. A mini-batch keeps the rows of its good files when one of its files fails
(``minibatch.py`` scores them on their own): the job succeeds, and its message, summary and table
name each file that failed and why.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from html import escape
from pathlib import Path

from ..words import plural
from .tables import PartJoiner, TableError, local_part_suffix

CLUSTER_WAIT = 120.0  # seconds the notebook waits for the worker to start the cluster
TABLE_INTERVAL = 0.5  # seconds between rewrites of mini-batches.json
SLOTS_INTERVAL = 1.0  # seconds between counts of the cluster's threads
EVENT_INTERVAL = 0.1  # seconds between progress events (a job of 100,000 mini-batches must not write one each)
SCHEDULER_GRACE = 10.0  # seconds the job waits for a scheduler it lost to answer again before it fails
FAILURES_LISTED = 100  # failed files the summary names (it is rewritten as the job runs)


class JobFailed(Exception):
    """The job ends failed; the message says which mini-batch decided it and why."""


class JobRun:
    def __init__(self, job_dir: str):
        self.dir = Path(job_dir)
        self.plan = json.loads((self.dir / "job.json").read_text())
        self.settings = self.plan["settings"]
        self.records: dict[int, dict] = {int(k): v for k, v in self.plan.get("reused", {}).items()}
        self._first_file = [0]  # mini-batch -> the index of its first file (labels are per file)
        for files in self.plan["mini_batches"]:
            self._first_file.append(self._first_file[-1] + len(files))
        self.client = None
        self.started = time.monotonic()
        self.scoring: list[float] = []  # when score() began and ended: rows/s while scoring
        self._table_written = self._evented = 0.0
        self._failed_files = 0  # files of mini-batches that failed for good (error_threshold counts them)
        self.decided_by: str | None = None
        self.storage_options = _take_credentials(self.dir)
        self.address: str | None = None
        self._model_files = None  # a Dask future of the model's files, for workers that cannot read them here
        self._began: set[str] = set()  # keys of the mini-batches a --scheduler worker started scoring
        self._lost_since: float | None = None
        self._joiner: PartJoiner | None = None  # the output, joined as the mini-batches end in order
        self._joined = 0  # the first mini-batch not yet handed to the joiner

    # -- cells ----------------------------------------------------------------------------------

    def show_settings(self):
        plan, settings = self.plan, self.settings
        rows = [
            ("job", plan["job"]),
            ("model", plan["model"]["ref"]),
            ("batch endpoint", plan.get("endpoint") or "-"),
            ("entry script", plan.get("entry_script") or "built-in scorer for " + plan["model"]["flavor"]),
            ("model files", _model_source(plan)),
            ("inputs", f"{plural(len(plan['files']), 'file')} in {plural(len(plan['mini_batches']), 'mini-batch')}"),
            ("output", plan["output"]["file"] if settings["output_action"] == "append_row" else "summary_only"),
            (
                "resumed from",
                f"job {plan['resume']} ({plural(len(self.records), 'mini-batch')} reused)"
                if plan.get("resume")
                else "-",
            ),
        ]
        rows += [
            (key, json.dumps(value) if isinstance(value, dict) else value)
            for key, value in settings.items()
            if key not in ("env_vars",)
        ]
        rows.append(("env_vars", ", ".join(sorted(settings["env_vars"])) or "-"))  # names only: values may be secret
        return Table(["setting", "value"], rows)

    def connect(self):
        """Attach to the cluster the worker started (or the user's scheduler)."""
        from distributed import Client  # imported first: on a cold start the cluster is still starting

        deadline = time.monotonic() + CLUSTER_WAIT
        path = self.dir / "cluster.json"
        while not path.exists():
            if time.monotonic() > deadline:
                raise JobFailed(f"The Dask cluster did not start within {CLUSTER_WAIT:.0f} s.")
            time.sleep(0.05)
        cluster = json.loads(path.read_text())
        if cluster.get("error"):
            raise JobFailed(cluster["error"])
        self.address = cluster["address"]
        try:
            self.client = Client(cluster["address"], timeout="30s")  # the default: distributed.wait uses it
        except (OSError, TimeoutError) as exc:
            raise JobFailed(
                f"Cannot reach the Dask scheduler at {cluster['address']} ({type(exc).__name__}: {exc}); "
                "start it again, or leave --scheduler out to run the job on a LocalCluster of its own."
            ) from None
        self.cluster = cluster
        job = str(self.plan["job"])
        if self.storage_options is not None:  # the store's credentials reach the workers through Dask only
            from .minibatch import StorageOptions

            self.client.register_plugin(StorageOptions(job, self.storage_options), name=f"modelhub-storage-{job}")
        if self.plan.get("remote") and not self.plan["model"].get("objects"):  # a local store: the bytes go
            self._model_files = self.client.scatter([_read_folder(self.plan["model"]["model_dir"])], broadcast=True)[0]
            self.client.subscribe_topic(f"modelhub-started-{job}", lambda event: self._began.add(event[1]["key"]))
        output = self.plan["output"]
        if output.get("url") and output.get("overwrite"):
            from . import locations

            keep = {locations.part_name(int(i), output["suffix"]) for i in self.plan.get("reused", {})}
            locations.clear_for_overwrite(self.filesystem(), output["url"], keep)
        return cluster["description"]

    def filesystem(self):
        from . import locations

        if getattr(self, "_fs", None) is None:
            self._fs = locations.filesystem(self.storage_options)
        return self._fs

    def _release(self) -> None:
        """Take the store's credentials off the workers (a shared cluster keeps plugins) and let go
        of the cluster."""
        if self.client is None:
            return
        if self.storage_options is not None and self.client.status == "running":
            try:
                self.client.unregister_worker_plugin(f"modelhub-storage-{self.plan['job']}")
            except Exception:  # a scheduler that went away took the plugin with it
                pass
        self.client.close(timeout=5)
        self.client = None

    def _not_done(self) -> int:
        done = sum(1 for r in self.records.values() if _final(r) and not r.get("error"))
        return len(self.plan["mini_batches"]) - done

    def _check_scheduler(self) -> None:
        """A scheduler lost for longer than SCHEDULER_GRACE fails the job, naming it."""
        if self.client.status == "running":
            self._lost_since = None
            return
        now = time.monotonic()
        self._lost_since = self._lost_since or now
        if now - self._lost_since > SCHEDULER_GRACE:
            raise JobFailed(
                f"The Dask scheduler at {self.address} stopped answering (lost for {SCHEDULER_GRACE:.0f} s, "
                f"client {self.client.status}) with {self._not_done()} of {len(self.plan['mini_batches'])} "
                "mini-batches not done; --resume this job once it runs again."
            )

    def score(self):
        """Run every mini-batch not already done; returns the summary."""
        self.scoring = [time.monotonic()]
        pending = [i for i in range(len(self.plan["mini_batches"])) if i not in self.records]
        pending.reverse()  # pop() takes them in input order
        (self.dir / "started").mkdir(exist_ok=True)
        try:
            return self._score(pending)
        except JobFailed:
            self._write_table(force=True)  # what --resume reuses
            self._abort_join()
            self._release()
            raise

    def _score(self, pending: list[int]):
        import queue

        in_flight: dict = {}  # future -> (index, attempt, deadline)
        attempts: dict[int, int] = {}
        finished: queue.SimpleQueue = queue.SimpleQueue()  # futures, as Dask's client thread sees them end
        slots, counted = 0, 0.0
        self._join_finished()  # the mini-batches an earlier job finished (--resume)
        self._event()
        while pending or in_flight:
            self._check_scheduler()
            now = time.monotonic()
            if self._lost_since is not None:  # no call to a scheduler that is away: it would block
                time.sleep(0.2)
                continue
            if now - counted > SLOTS_INTERVAL:  # a worker killed for a timeout comes back: count again
                # one queued behind each running mini-batch, so no worker waits for the next to be sent
                slots, counted = 2 * max(1, sum(self.client.nthreads().values())), now
            while pending and len(in_flight) < slots and self.decided_by is None:
                index = pending.pop()
                attempts[index] = attempts.get(index, 0) + 1
                future = self._submit(index, attempts[index])
                in_flight[future] = (index, attempts[index], None)
                future.add_done_callback(finished.put)
            if not in_flight:
                break
            try:  # wakes at once when a mini-batch ends, else to check the timeouts
                done = [finished.get(timeout=0.2)]
                while not finished.empty():
                    done.append(finished.get())
            except queue.Empty:
                done = []
            for future in done:
                if future not in in_flight:  # already settled: timed out, or cancelled
                    continue
                index, attempt, _ = in_flight.pop(future)
                record = self._result(future, index, attempt)
                self._settle(record, pending)
            now = time.monotonic()
            for future, (index, attempt, deadline) in list(in_flight.items()):
                if deadline is None:  # not started yet (the worker may be loading the model)
                    if future.key in self._began or self._started(index, attempt).exists():
                        in_flight[future] = (index, attempt, now + self.settings["timeout"])
                    continue
                if now > deadline:
                    del in_flight[future]
                    self._stop_timed_out(future, self._started(index, attempt))
                    names = ", ".join(Path(f).name for f in self.plan["mini_batches"][index])
                    self._settle(
                        self._record(
                            index,
                            attempt,
                            error=(
                                f"mini-batch {index} (files {names}) timed out after {self.settings['timeout']:g} s"
                            ),
                        ),
                        pending,
                    )
            if self.decided_by is not None and in_flight:
                for future in in_flight:
                    future.cancel()
                in_flight.clear()
            self._join_finished()
            self._event()
        self.scoring.append(time.monotonic())
        self._event(force=True)
        self._write_table(force=True)
        return self.summary()

    def show_mini_batches(self):
        rows = []
        for index, files in enumerate(self.plan["mini_batches"]):
            record = self.records.get(index, {})
            rows.append(
                (
                    index,
                    _status(record),
                    ", ".join(Path(f).name for f in files),
                    record.get("rows_in"),
                    record.get("rows_out"),
                    record.get("seconds"),
                    record.get("attempt"),
                    _retry_text(record),
                    record.get("worker"),
                    _failure(record) or "",
                )
            )
        return Table(
            [
                "mini-batch",
                "status",
                "files",
                "rows in",
                "rows out",
                "seconds",
                "attempts",
                "why tried again",
                "worker",
                "error",
            ],
            rows,
        )

    def show_errors(self) -> None:
        failed = [r for r in self.records.values() if _failure(r)]
        if not failed:
            print("No mini-batch failed.")
            return
        for record in sorted(failed, key=lambda r: r["index"]):
            print(
                f"mini-batch {record['index']} (attempt {record['attempt']}, files "
                f"{', '.join(Path(f).name for f in self.plan['mini_batches'][record['index']])}):"
            )
            if record.get("error"):
                print(f"  {record['error']}")
            for failure in record.get("failed_files") or []:
                print(f"  {Path(failure['file']).name} failed, the other files were scored: {failure['error']}")
            for attempt, error in enumerate(record.get("retries") or [], 1):
                print(f"  attempt {attempt} failed and was tried again: {error}")
            if record.get("not_retried"):
                print(f"  {record['not_retried']}")
            if record.get("traceback"):
                print("  " + record["traceback"].rstrip().replace("\n", "\n  "))

    def finish(self):
        """Write the output (under a temporary name, renamed at the end) and the outcome."""
        summary = self.summary()
        outcome = {"status": "succeeded", "summary": summary, "output": None, "message": ""}
        try:
            if self.decided_by is not None:
                raise JobFailed(self.decided_by)
            if summary["succeeded"] == 0 and summary["mini_batches"]:
                raise JobFailed("No mini-batch succeeded; the table above has each one's error.")
            if self.settings["output_action"] == "append_row":
                outcome["output"] = self._write_output()
            outcome["message"] = (
                f"Scored {plural(summary['rows_out'], 'row')} from {plural(summary['files'], 'file')} in "
                f"{plural(summary['mini_batches'], 'mini-batch')}" + _failures_text(summary) + "."
            )
        except (JobFailed, TableError, FileExistsError) as exc:
            self._abort_join()
            outcome.update(status="failed", message=str(exc) + self._uncommitted())
            write_json(self.dir / "outcome.json", outcome)
            raise JobFailed(str(exc)) from None
        finally:
            self._release()
        write_json(self.dir / "outcome.json", outcome)
        return outcome["message"] + (f" Output: {outcome['output']}" if outcome["output"] else "")

    # -- mini-batches -------------------------------------------------------------------------

    def _submit(self, index: int, attempt: int):
        from . import minibatch

        plan = self.plan
        files = plan["mini_batches"][index]
        first = self._first_file[index]
        output, remote = plan["output"], plan.get("remote")
        if output.get("url"):
            from .locations import part_name

            part = f"{output['url']}/{part_name(index, output['suffix'])}"
        else:  # a worker elsewhere sends its part back through Dask
            part = None if remote else str(self._part(index))
        spec = {
            "job": str(plan["job"]),
            "index": index,
            "attempt": attempt,
            "files": files,
            "file_labels": plan["file_labels"][first : first + len(files)],
            "model_dir": plan["model"]["model_dir"],
            "model_objects": plan["model"].get("objects") if remote else None,
            "flavor": plan["model"]["flavor"],
            "signature": plan["model"].get("signature"),
            "entry_script": plan.get("entry_script"),
            "entry_script_text": plan.get("entry_script_text"),
            "env_vars": self.settings["env_vars"],
            "output_action": self.settings["output_action"],
            "part": part,
            "part_suffix": self._part_suffix(),
            "started": None if remote else str(self._started(index, attempt)),
            "started_topic": f"modelhub-started-{plan['job']}" if remote else None,
        }
        if self._model_files is not None:
            return self.client.submit(
                minibatch.run,
                spec,
                self._model_files,
                key=f"minibatch-{plan['job']}-{index}-{attempt}",
                pure=False,
            )
        return self.client.submit(minibatch.run, spec, key=f"minibatch-{plan['job']}-{index}-{attempt}", pure=False)

    def _started(self, index: int, attempt: int) -> Path:
        """Touched by the worker when the mini-batch starts scoring (its timeout counts from then)."""
        return self.dir / "started" / f"{index}-{attempt}"

    def _result(self, future, index: int, attempt: int) -> dict:
        try:
            record = future.result()
        except Exception as exc:  # the worker died under it (memory, a crash), or Dask gave up
            return self._record(index, attempt, error=f"the worker running it was lost: {type(exc).__name__}: {exc}")
        data = record.pop("part_bytes", None)
        if data is not None:  # from a worker that cannot write here
            part = self._part(index)
            part.parent.mkdir(parents=True, exist_ok=True)
            temporary = part.with_name(part.name + ".tmp")
            temporary.write_bytes(data)
            temporary.replace(part)
        return record

    def _record(self, index: int, attempt: int, error: str) -> dict:
        return {
            "index": index,
            "files": self.plan["mini_batches"][index],
            "attempt": attempt,
            "rows_in": 0,
            "rows_out": 0,
            "seconds": self.settings["timeout"],
            "worker": None,
            "error": error,
            "traceback": None,
            "rss": 0,
            "transient": True,  # a lost worker or a timeout may not happen again
            "failed_files": [],
        }

    def _settle(self, record: dict, pending: list[int]) -> None:
        """Record a finished attempt: retry a failure while retries are left, then count it."""
        index = record["index"]
        earlier = self.records.get(index, {})
        retries = list(earlier.get("retries") or []) if earlier.get("status") == "retrying" else []
        failing = _failure(record)
        may_pass = record.get("transient", True)
        if failing and may_pass and record["attempt"] <= self.settings["max_retries"] and self.decided_by is None:
            self.records[index] = {**record, "status": "retrying", "retries": [*retries, failing]}
            pending.append(index)  # next, before the ones not yet started
            return
        record = {**record, "retries": retries}
        if failing and not may_pass and record["attempt"] <= self.settings["max_retries"]:
            record["not_retried"] = "not retried: the same input fails the same way every time"
        self.records[index] = record
        threshold = self.settings["error_threshold"]
        lost = len(record["files"]) if record["error"] else len(record.get("failed_files") or [])
        self._failed_files += lost
        failed_items = self._failed_files
        if lost and threshold >= 0 and failed_items > threshold and self.decided_by is None:
            names = ", ".join(Path(f).name for f in record["files"])
            self.decided_by = (
                f"Mini-batch {index} (files {names}) failed after "
                f"{plural(record['attempt'], 'attempt')}: {failing.rstrip('.')}. "
                f"{plural(failed_items, 'failed file')} {'is' if failed_items == 1 else 'are'} more than "
                f"error_threshold {threshold}, so the job stopped."
            )

    def _stop_timed_out(self, future, marker: Path) -> None:
        """A mini-batch over its timeout cannot be interrupted inside its thread: kill the worker
        process running it (its nanny starts a fresh one at once). A worker on another machine
        is restarted through the scheduler instead."""
        try:
            pid, host = marker.read_text().split()
            if host == socket.gethostname():
                future.cancel()
                os.kill(int(pid), signal.SIGKILL)
                return
            workers = [address for address, keys in self.client.processing().items() if future.key in keys]
            future.cancel()
            if workers:
                self.client.restart_workers(workers, timeout=60)
        except Exception as exc:  # gone already, or a cluster without nannies
            print(f"Could not stop the worker of a timed-out mini-batch: {type(exc).__name__}: {exc}")

    # -- reporting ------------------------------------------------------------------------------

    def summary(self) -> dict:
        final = [r for r in self.records.values() if _final(r)]
        failed = [r for r in final if r.get("error")]
        succeeded = [r for r in final if not r.get("error")]
        failures = [  # every file that failed for good, with why: the mini-batch's error, or its own
            {"file": Path(f).name, "mini_batch": r["index"], "attempts": r.get("attempt"), "error": r["error"]}
            for r in sorted(failed, key=lambda r: r["index"])
            for f in r["files"]
        ] + [
            {
                "file": Path(f["file"]).name,
                "mini_batch": r["index"],
                "attempts": r.get("attempt"),
                "error": f["error"],
            }
            for r in sorted(succeeded, key=lambda r: r["index"])
            for f in r.get("failed_files") or []
        ]
        elapsed = time.monotonic() - self.started
        rows = sum(r.get("rows_out") or 0 for r in succeeded)
        memory: dict[str, int] = {}
        for record in self.records.values():
            if record.get("worker"):
                memory[record["worker"]] = max(memory.get(record["worker"], 0), record.get("rss") or 0)
        return {
            "mini_batches": len(self.plan["mini_batches"]),
            "done": len(final),
            "succeeded": len(succeeded),
            "failed": len(failed),
            "reused": sum(1 for r in final if r.get("reused_from")),
            "files": len(self.plan["files"]),
            "partly_failed": sum(1 for r in succeeded if r.get("failed_files")),
            "failed_files": len(failures),
            "failures": sorted(failures, key=lambda f: f["mini_batch"])[:FAILURES_LISTED],
            "rows_in": sum(r.get("rows_in") or 0 for r in succeeded),
            "rows_out": rows,
            "seconds": round(elapsed, 3),
            "rows_per_second": round(rows / elapsed, 1) if elapsed > 0 else None,
            "scoring_seconds": round(self.scoring[-1] - self.scoring[0], 3) if len(self.scoring) == 2 else None,
            "peak_rss_per_worker": memory,
            "memory_limit_per_worker": getattr(self, "cluster", {}).get("memory_limit"),
        }

    def _event(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._evented < EVENT_INTERVAL:
            return
        self._evented = now
        summary = self.summary()
        remaining = summary["mini_batches"] - summary["done"]
        rate = summary["done"] / summary["seconds"] if summary["seconds"] > 0 else 0
        event = {
            **{k: summary[k] for k in ("mini_batches", "done", "failed", "rows_out", "rows_per_second")},
            "eta": round(remaining / rate, 1) if rate and remaining else None,
        }
        with open(self.dir / "events.jsonl", "a") as f:
            f.write(json.dumps(event) + "\n")
        self._write_table()

    def _write_table(self, force: bool = False) -> None:
        """Rewritten at most every TABLE_INTERVAL, and at the end (it is what a cancel leaves for
        --resume: a mini-batch finished since the last rewrite is scored again)."""
        now = time.monotonic()
        if force or now - self._table_written >= TABLE_INTERVAL:
            write_json(
                self.dir / "mini-batches.json",
                {"records": [self.records[i] for i in sorted(self.records)], "summary": self.summary()},
            )
            self._table_written = now

    def _part_suffix(self) -> str:
        return local_part_suffix(self.plan["output"]["suffix"])

    def _part(self, index: int) -> Path:
        """Where mini-batch ``index`` leaves its rows on this disk for the join."""
        return self.dir / "parts" / f"{index:06d}{self._part_suffix()}"

    def _join_finished(self) -> None:
        """Hand the joiner every part from the next one in input order up to the first mini-batch
        not finished for good: the output grows while later mini-batches are scored."""
        output = self.plan["output"]
        if self.settings["output_action"] != "append_row" or output.get("url") or self.decided_by is not None:
            return
        total = len(self.plan["mini_batches"])
        while self._joined < total:
            record = self.records.get(self._joined)
            if record is None or not _final(record):
                return
            part = self._part(self._joined)
            if not record.get("error") and part.exists():  # none: the mini-batch returned no rows
                if self._joiner is None:
                    self._joiner = PartJoiner(Path(output["partial"]), output["suffix"])
                self._joiner.add(self._joined, part)
            self._joined += 1

    def _abort_join(self) -> None:
        """The job failed: stop joining and remove the partial output (never the user's file)."""
        joiner, self._joiner = self._joiner, None
        if joiner is not None:
            joiner.abort()

    def _write_output(self) -> str:
        output = self.plan["output"]
        if output.get("url"):
            return self._commit_url()
        self._join_finished()
        if self._joiner is None:  # no mini-batch returned rows: an empty output, as before
            self._joiner = PartJoiner(Path(output["partial"]), output["suffix"])
        target, partial = Path(output["file"]), Path(output["partial"])
        try:
            joiner, self._joiner = self._joiner, None
            joiner.close()
            commit(partial, target, output.get("overwrite", False), self.plan["job"])
        finally:
            partial.unlink(missing_ok=True)
        return str(target)

    def _commit_url(self) -> str:
        """Every finished part is under the prefix: write ``_SUCCESS`` naming them, last."""
        from . import locations

        output, fs = self.plan["output"], self.filesystem()
        parts = []
        for index in sorted(self.records):
            record = self.records[index]
            if record.get("error"):
                continue
            name = locations.part_name(index, output["suffix"])
            if not fs.exists(f"{output['url']}/{name}"[len("s3://") :]):
                continue  # a mini-batch that returned no rows
            parts.append({"name": name, "rows": record.get("rows_out"), "mini_batch": index})
        return locations.commit(
            fs, output["url"], self.plan["job"], self.plan["model"]["ref"], parts, output.get("overwrite", False)
        )

    def _uncommitted(self) -> str:
        """For a failed job writing to a bucket: where its finished parts are, uncommitted."""
        output = self.plan["output"]
        done = [i for i, r in self.records.items() if not r.get("error")]
        if not output.get("url") or not done:
            return ""
        return (
            f" Its {plural(len(done), 'finished part')} under {output['url']}/ "
            f"{'are' if len(done) != 1 else 'is'} not committed (no _SUCCESS): --resume {self.plan['job']} "
            "reuses them."
        )


def _model_source(plan: dict) -> str:
    if not plan.get("remote"):
        return plan["model"]["model_dir"]
    if plan["model"].get("objects"):
        return "each worker downloads them from the artifact store and checks their sha256"
    return "sent to each worker through Dask"


def _take_credentials(folder: Path) -> dict | None:
    """The store options the job's worker left for this kernel (``execution.CREDENTIALS``), read
    once and removed: the notebook never holds them."""
    path = folder / "storage.json"
    try:
        options = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    path.unlink(missing_ok=True)
    return options


def _read_folder(folder: str) -> dict[str, bytes]:
    """A model's files by relative path, to send to workers that cannot read this machine's disk."""
    root = Path(folder)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class Table:
    """A table for the notebook (HTML, and text for the saved plain form) without importing pandas,
    which would add most of a second to every job's start."""

    def __init__(self, columns: list[str], rows: list[tuple]):
        self.columns, self.rows = columns, rows

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(str(c))}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        cells = [[str(c) for c in self.columns]] + [["" if v is None else str(v) for v in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells)


def _final(record: dict) -> bool:
    return record.get("status") != "retrying"


def _status(record: dict) -> str:
    if not record:
        return "not run"
    if record.get("status") == "retrying":
        return "retrying"
    if record.get("reused_from"):
        return f"reused (job {record['reused_from']})"
    if record.get("error"):
        return "failed"
    return "partly failed" if record.get("failed_files") else "succeeded"


def _failure(record: dict) -> str | None:
    """What went wrong in a mini-batch: its error, or the errors of the files it could not score."""
    if record.get("error"):
        return record["error"]
    failed = record.get("failed_files") or []
    return "; ".join(f"{Path(f['file']).name}: {f['error']}" for f in failed) or None


def _retry_text(record: dict) -> str:
    retries = record.get("retries") or []
    if retries:
        return "; ".join(f"attempt {n}: {error}" for n, error in enumerate(retries, 1))
    return record.get("not_retried") or ""


def _failures_text(summary: dict) -> str:
    """'; 1 file failed: bad.csv (why)' for a job's message, or nothing."""
    count, failures = summary["failed_files"], summary["failures"]
    if not count:
        return ""
    named = "; ".join(f"{f['file']} ({f['error'].rstrip('.')})" for f in failures[:5])
    more = f"; and {count - 5} more (see the job's table)" if count > 5 else ""
    partly = summary.get("partly_failed")
    kept = (
        f". The other files of {plural(partly, 'mini-batch')} with a failed file were scored on their own"
        if partly
        else ""
    )
    return f"; {plural(count, 'file')} failed: {named}{more}{kept}"


def commit(partial: Path, target: Path, overwrite: bool, job: int) -> None:
    """Put the finished output in place in one step. Without ``overwrite`` a file that appeared
    since the job was accepted (the user's, another server's job) is never replaced: a hard link
    fails if the name exists, where a rename would silently take its place."""
    if overwrite:
        partial.replace(target)
        return
    try:
        os.link(partial, target)
        return
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: check, then rename (not atomic, but still no silent loss)
        if not target.exists():
            partial.replace(target)
            return
    raise JobFailed(
        f"{target} was created while job {job} ran, and a job does not replace a file unless "
        "asked: it was kept, and this job's output was not written. Run it again with --overwrite "
        "to replace it (--resume reuses the finished mini-batches), or choose another --output."
    )


def write_json(path: Path, value) -> None:
    """Written whole under a temporary name, then renamed: a reader never sees half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, default=str))
    temporary.replace(path)
