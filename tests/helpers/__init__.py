"""What the tests share besides fixtures (those are in the conftest.py files): real components
started as subprocesses and the small tools to drive them.

- ``components``: skip when a real component is missing, fail instead in CI
- ``servers``: a Jupyter server subprocess with the extension, free ports, polling
- ``forked``, ``zygote``: servers forked from a warm process that imported Jupyter once
- ``uploads``: tar archives as a client uploads them
- ``paths``: the checkout's folders (notebooks, bench, the built labextension, test artifacts)
- ``kernels``: a kernel started by a server, driven over ZMQ; the training cell of the magics tests
- ``shell``: an in-process IPython shell whose magics talk to a server, answering as a kernel does
- ``notebooks``: demo notebooks executed with papermill
- ``postgres``, ``docker``, ``s3``, ``oci_registry``: PostgreSQL servers, the Docker engine, an
  S3 API (moto) and an image registry (docker-registry)
- ``operations``, ``convert``, ``serving``, ``panel``: helpers of those areas

Kept free of imports at package level: a worker process imports ``helpers.convert`` (through
``PYTHONPATH``) when it unpickles a test's object, and should load nothing else.
"""
