"""The raw reference for bench/serving.py: an asyncio Protocol on uvloop, httptools parsing, onnxruntime.

The fastest plain Python server for the job: one path, keep-alive, no routing, no auth, no
metrics, no access log, no checks beyond what parsing needs. What the scoring runtime is held to
(a fraction of its requests per second). Usage: python bench/raw_uvloop_server.py MODEL.onnx PORT
"""

import asyncio
import sys

import httptools
import numpy as np
import onnxruntime as ort
import orjson
import uvloop

options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
output_names = [o.name for o in session.get_outputs()]


class Score(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.body = []

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_body(self, body):
        self.body.append(body)

    def on_message_complete(self):
        body, self.body = b"".join(self.body), []
        data = np.asarray(orjson.loads(body)["data"], dtype=np.float32)
        outputs = session.run(None, {input_name: data})
        answer = orjson.dumps(dict(zip(output_names, outputs)), option=orjson.OPT_SERIALIZE_NUMPY)
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer)
        )
        if not self.parser.should_keep_alive():
            self.transport.close()


async def main():
    server = await asyncio.get_running_loop().create_server(Score, "127.0.0.1", int(sys.argv[2]))
    print(f"READY port={sys.argv[2]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main())
