"""The bare reference for bench/serving.py: a Tornado handler calling onnxruntime, nothing else.

No routing beyond one path, no auth, no metrics, no access log, no checks: the speed a scoring
runtime is measured against. Usage: python bench/bare_onnx_server.py MODEL.onnx PORT
"""

import sys

import numpy as np
import onnxruntime as ort
import orjson
import tornado.ioloop
import tornado.web

options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
output_names = [o.name for o in session.get_outputs()]


class ScoreHandler(tornado.web.RequestHandler):
    def post(self):
        data = np.asarray(orjson.loads(self.request.body)["data"], dtype=np.float32)
        outputs = session.run(None, {input_name: data})
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(dict(zip(output_names, outputs)), option=orjson.OPT_SERIALIZE_NUMPY))


if __name__ == "__main__":
    app = tornado.web.Application([("/score", ScoreHandler)], log_function=lambda handler: None)
    app.listen(int(sys.argv[2]), "127.0.0.1")
    print(f"READY port={sys.argv[2]}", flush=True)
    tornado.ioloop.IOLoop.current().start()
