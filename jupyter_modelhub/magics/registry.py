"""The registry's magics: ``%register``, ``%models``, ``%model``, ``%tag``, ``%alias``,
``%archive``, ``%restore``, ``%download``, ``%delete``.

Each magic parses its line (split as a shell would: ``base.split_line``), evaluates expressions
in the user's namespace, calls the client and returns a result object (rich HTML in a notebook,
text elsewhere), so ``v = %register ...`` works. Errors are one line (``UsageError``), never a
traceback.
"""

from __future__ import annotations

import os

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics, json_or_text, pairs


def filter_text(terms: list[str]) -> str:
    """The tag filter of %models' words: a value the line quoted (``note="two words"``, now the word
    ``note=two words``) is quoted again, as the filter syntax wants it."""
    written = []
    for term in terms:
        key, op, value = term.partition("!=") if "!=" in term else term.partition("=")
        written.append(f'{key}{op}"{value}"' if op and any(c.isspace() for c in value) else term)
    return " ".join(written)


@magics_class
class RegistryMagics(ModelHubMagics):
    """Register, find, label, download and delete model versions."""

    @magic_arguments()
    @argument("name", help="model name: letters, digits, '.', '_', '-'")
    @argument(
        "source",
        nargs="+",
        help="a variable holding a fitted scikit-learn estimator or pipeline, or files/folders "
        "(.onnx, .joblib/.pkl, an MLflow model folder, anything else as 'custom')",
    )
    @argument("--sample", help="expression giving example inputs (e.g. X_test[:5]): stores signature and input example")
    @argument("--tag", action="append", default=[], help="NAME=VALUE, repeatable")
    @argument("--property", action="append", default=[], help="NAME=VALUE (JSON values allowed), repeatable")
    @argument("--description", "-d", default="")
    @argument("--flavor", help="sklearn, onnx, mlflow or custom (detected when omitted)")
    @argument("--derived-from", help="reference of the version this one derives from, e.g. churn:1")
    @argument("--new-version", action="store_true", help="register even if identical to an existing version")
    @argument("--format", choices=["joblib", "skops"], help="how an estimator is saved: joblib (default) or skops")
    @line_magic
    def register(self, line: str):
        """Register a model version: ``%register churn clf --sample X_test[:5] --tag team=growth``."""
        args = self._parse(self.register, line)
        self._check_name(args.name, args.source)
        source = self._source(args.source)
        sample = self._eval(args.sample, "--sample") if args.sample else None
        properties = {k: json_or_text(v) for k, v in pairs(args.property, "--property").items()}
        return self._call(
            self.hub.register,
            args.name,
            source,
            sample=sample,
            flavor=args.flavor,
            description=args.description,
            tags=pairs(args.tag, "--tag"),
            properties=properties,
            new_version=args.new_version,
            derived_from=args.derived_from,
            source_notebook=self._notebook_path(),
            source_kernel=self._kernel_id(),
            format=args.format,
        )

    def _check_name(self, name: str, words: list[str]) -> None:
        """Refuse a name with spaces, quoted (``"my model" clf``) or not (``my model clf``, where
        the words before the model are taken for more name), showing the valid form."""
        spaced, rest = [name], list(words)
        if " " not in name:
            split = next(
                (
                    k
                    for k in range(1, len(words))
                    if not any(map(self._is_source, words[:k])) and all(map(self._is_source, words[k:]))
                ),
                None,
            )
            if split is None:
                return
            spaced, rest = [name, *words[:split]], words[split:]
        written = " ".join(spaced)
        raise UsageError(
            f"Invalid model name {written!r}: names cannot contain spaces (use letters, digits, '.', '_', '-'), "
            f"e.g. %register {'-'.join(written.split())} {' '.join(rest)}".rstrip()
            + "."
        )

    def _is_source(self, word: str) -> bool:
        return (word.isidentifier() and word in self.shell.user_ns) or os.path.exists(os.path.expanduser(word))

    def _source(self, words: list[str]):
        """A variable of the user's, an expression (evaluated), or paths."""
        if len(words) == 1 and words[0].isidentifier() and words[0] in self.shell.user_ns:
            return self.shell.user_ns[words[0]]
        if len(words) == 1 and not os.path.exists(os.path.expanduser(words[0])):
            try:
                return self.shell.ev(words[0])
            except Exception:
                raise UsageError(
                    f"{words[0]!r} is neither a variable nor an existing file or folder "
                    f"(relative paths start at {os.getcwd()})."
                ) from None
        return [os.path.expanduser(w) for w in words]

    @magic_arguments()
    @argument("filter", nargs="*", help="tag filter terms: NAME=VALUE, NAME!=VALUE, NAME (all must hold)")
    @argument("--name", "-n", default="", help="substring of the model name")
    @argument("--flavor", help="only this flavor")
    @argument("--archived", action="store_true", help="include archived versions")
    @argument("--page", type=int, default=1)
    @argument("--per-page", type=int, default=50)
    @line_magic
    def models(self, line: str):
        """List models, newest first: ``%models team=growth stage!=dev --name churn``."""
        args = self._parse(self.models, line)
        return self._call(
            self.hub.models,
            filter=filter_text(args.filter),
            q=args.name,
            flavor=args.flavor,
            archived=args.archived,
            page=args.page,
            per_page=args.per_page,
        )

    @magic_arguments()
    @argument("ref", help="NAME for the whole model; NAME:VERSION or NAME@ALIAS for one version")
    @line_magic
    def model(self, line: str):
        """Show a model (versions, aliases, lineage) or one version (files, tags, signature)."""
        ref = self._ref(self._parse(self.model, line).ref)
        if ref.version is None and ref.alias is None:
            return self._call(self.hub.model, ref.name)
        return self._call(self.hub.version, str(ref))

    @magic_arguments()
    @argument("ref", help="NAME:VERSION, NAME@ALIAS, or NAME for the latest version")
    @argument("tags", nargs="*", help="NAME=VALUE to set")
    @argument("--remove", "-r", action="append", default=[], help="tag name to remove, repeatable")
    @line_magic
    def tag(self, line: str):
        """Set or remove tags of a version: ``%tag churn:2 stage=prod --remove candidate``."""
        args = self._parse(self.tag, line)
        changes: dict[str, str | None] = dict(pairs(args.tags, "tag"))
        changes.update({key: None for key in args.remove})
        if not changes:
            raise UsageError("Nothing to change: give NAME=VALUE tags to set or --remove NAME.")
        return self._call(self.hub.tag, str(self._ref(args.ref)), changes)

    @magic_arguments()
    @argument("target", help="NAME:VERSION to point the alias at, or NAME@ALIAS with --delete")
    @argument("alias", nargs="?", help="alias name, e.g. production")
    @argument("--delete", action="store_true", help="remove the alias NAME@ALIAS")
    @argument("--rollback", action="store_true", help="point NAME@ALIAS back at the version before its last move")
    @line_magic
    def alias(self, line: str):
        """Point an alias at a version: ``%alias churn:2 production``; ``%alias churn@production --delete``;
        ``%alias churn@production --rollback``."""
        args = self._parse(self.alias, line)
        ref = self._ref(args.target)
        if args.rollback:
            if ref.alias is None:
                raise UsageError("With --rollback, name the alias as NAME@ALIAS, e.g. churn@production.")
            return self._call(self.hub.rollback_alias, ref.name, ref.alias)
        if args.delete:
            if ref.alias is None:
                raise UsageError("With --delete, name the alias as NAME@ALIAS, e.g. churn@production.")
            self._call(self.hub.delete_alias, ref.name, ref.alias)
            print(f"Removed alias {ref}.")
            return None
        if not args.alias:
            raise UsageError("Give the alias name: %alias churn:2 production.")
        version = ref.version if ref.version is not None else self._call(self.hub.version, str(ref))["version"]
        return self._call(self.hub.set_alias, ref.name, args.alias, version)

    @magic_arguments()
    @argument("ref", help="NAME:VERSION or NAME@ALIAS")
    @line_magic
    def archive(self, line: str):
        """Hide a version from default listings (it stays usable by reference)."""
        return self._call(self.hub.archive, str(self._ref(self._parse(self.archive, line).ref)))

    @magic_arguments()
    @argument("ref", help="NAME:VERSION")
    @line_magic
    def restore(self, line: str):
        """Undo %archive."""
        return self._call(self.hub.restore, str(self._ref(self._parse(self.restore, line).ref)))

    @magic_arguments()
    @argument("ref", help="NAME, NAME:VERSION or NAME@ALIAS")
    @argument("--to", default=".", help="folder to write into (default: the current folder)")
    @argument("--path", help="only this file of the version")
    @line_magic
    def download(self, line: str):
        """Download a version's files, each checked against its manifest sha256."""
        args = self._parse(self.download, line)
        return self._call(self.hub.download, str(self._ref(args.ref)), to=args.to, path=args.path)

    @magic_arguments()
    @argument("ref", help="NAME:VERSION or NAME@ALIAS; NAME with --all for the whole model")
    @argument("--all", action="store_true", help="delete the whole model with every version")
    @line_magic
    def delete(self, line: str):
        """Delete a version (refused while an alias or deployment uses it) or, with --all, a model."""
        args = self._parse(self.delete, line)
        ref = self._ref(args.ref)
        if args.all:
            if ref.version is not None or ref.alias is not None:
                raise UsageError("--all deletes a whole model: give its NAME alone.")
            return self._call(self.hub.delete_model, ref.name)
        if ref.version is None and ref.alias is None:
            raise UsageError(f"Name a version ({ref.name}:3) or pass --all to delete the whole model {ref.name!r}.")
        return self._call(self.hub.delete, str(ref))
