"""The packaging magics: ``%package`` builds a serving image (an operation with a progress bar
and the build log), ``%images`` / ``%image`` show them, ``%envs`` / ``%env`` the environments."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..display import ImageInfo, Operation
from .base import ModelHubMagics


def package_options(args) -> dict:
    """What %package's (and the CLI's) arguments ask ``ModelHubClient.package`` for, not waiting."""
    return {
        "environment": args.env,
        "requirements": args.requirements,
        "conda": args.conda,
        "entry_script": args.entry_script,
        "tag": args.tag,
        "base_image": args.base_image,
        "context": args.context,
        "no_cache": args.no_cache,
        "push": args.push,
        "wait": False,
    }


@magics_class
class PackagingMagics(ModelHubMagics):
    """Package models as Docker images; manage their environments."""

    @magic_arguments()
    @argument("model", help="NAME, NAME:VERSION or NAME@ALIAS")
    @argument("--env", help="an environment NAME or NAME:VERSION (see %%envs)")
    @argument("--requirements", "-r", help="a requirements file to make the environment of")
    @argument("--conda", help="a conda environment file (its pip section is used)")
    @argument("--entry-script", help="an Azure-style score.py with init() and run(raw_data)")
    @argument("--tag", "-t", help="image tag (default modelhub/NAME:VERSION)")
    @argument("--base-image", help="base image (default: the server's Packager.base_image)")
    @argument("--context", help="write the build context into this folder instead of building")
    @argument("--no-cache", action="store_true", help="rebuild every layer, reusing nothing from the engine's cache")
    @argument("--push", metavar="REGISTRY/REPO[:TAG]", help="then push the image there (default tag: the image's)")
    @argument("--no-wait", action="store_true", help="return the build operation at once")
    @line_magic
    def package(self, line: str):
        """Build a serving image of a model: ``%package churn@production``.

        Layers change least-often first (dependencies, runtime, entry script, model), so a
        model-only change rebuilds one thin layer; the build report says what was reused and why.
        ``--push registry.example.com/team/churn`` then pushes it with the Docker engine's
        credentials and records the digest the registry answered.
        """
        args = self._parse(self.package, line)
        answer = self._call(self.hub.package, str(self._ref(args.model)), **package_options(args))
        if not isinstance(answer, Operation) or args.no_wait:
            return answer
        result = self._wait(answer, f"package {args.model}")
        return answer if result is answer else ImageInfo(result)

    @magic_arguments()
    @argument("--model", "-m", help="only images of this model")
    @line_magic
    def images(self, line: str = ""):
        """List built images, newest first."""
        return self._call(self.hub.images, self._parse(self.images, line).model)

    @magic_arguments()
    @argument("image", help="an image's number or tag")
    @argument(
        "--delete",
        action="store_true",
        help="remove the record, and the engine's image unless another record uses it (only images Model Hub "
        "built, by their label; what is kept is said, with its size)",
    )
    @argument(
        "--push",
        metavar="REGISTRY/REPO[:TAG]",
        help="push it there with the Docker engine's credentials (default tag: the image's)",
    )
    @argument("--no-wait", action="store_true", help="with --push: return the push operation at once")
    @line_magic
    def image(self, line: str):
        """One image with its build report and where it was pushed: ``%image modelhub/churn:2``;
        ``%image 3 --push registry.example.com/team/churn`` pushes it (an operation with a
        progress bar) and records the digest."""
        args = self._parse(self.image, line)
        if args.delete and args.push:
            raise UsageError("Give --delete or --push, not both.")
        if args.delete:
            return self._call(self.hub.delete_image, args.image)
        if args.push:
            operation = self._call(self.hub.push_image, args.image, args.push, wait=False)
            if args.no_wait:
                return operation
            result = self._wait(operation, f"push {args.image}")
            return operation if result is operation else ImageInfo(result)
        return self._call(self.hub.image, args.image)

    @magic_arguments()
    @argument("target", help="an endpoint name, or an image's number or tag")
    @argument("--tolerance", type=float, default=1e-6, help="allowed difference of numbers (relative above 1)")
    @line_magic
    def parity(self, line: str):
        """Kernel against container: ``%parity churn-ep`` or ``%parity modelhub/churn:2``.

        The version's input example goes to the endpoint (or a throwaway container of the image)
        and through the same scorer here; the answers are compared and the Python and package
        versions of both sides shown side by side.
        """
        args = self._parse(self.parity, line)
        return self._call_with_status(
            f"Comparing {args.target} with this kernel...", self.hub.parity, args.target, tolerance=args.tolerance
        )

    @line_magic
    def envs(self, line: str = ""):
        """List environments (name:version, Python, base image, packages)."""
        return self._call(self.hub.environments, line.strip() or None)

    @magic_arguments()
    @argument("words", nargs="+", help="NAME[:VERSION] to show one, or: create NAME --requirements FILE")
    @argument("--requirements", "-r", help="with create: a requirements file")
    @argument("--conda", help="with create: a conda environment file (its pip section)")
    @argument("--python", help="with create: the image's Python version (default the server's, 3.11)")
    @argument("--base-image", help="with create: the base image it is for")
    @line_magic
    def env(self, line: str):
        """Show an environment (``%env churn-env:2``) or make one
        (``%env create churn-env --requirements requirements.txt``): locked with uv for the image's
        platform; the same content is the same version."""
        args = self._parse(self.env, line)
        if args.words[0] == "create":
            if len(args.words) != 2:
                raise UsageError("Give the new environment's name: %env create NAME --requirements FILE.")
            if not args.requirements and not args.conda:
                raise UsageError("%env create needs --requirements FILE or --conda FILE.")
            return self._call(
                self.hub.create_environment,
                args.words[1],
                requirements=args.requirements,
                conda=args.conda,
                python=args.python,
                base_image=args.base_image,
            )
        if len(args.words) != 1:
            raise UsageError("Name one environment: %env NAME[:VERSION].")
        return self._call(self.hub.environment, args.words[0])
