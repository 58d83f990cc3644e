"""A webhook receiver for the notifier's tests: listens on a free loopback port (printed
first), checks each POST's HMAC-SHA256 signature with the secret, and appends what it
received, with whether the signature held, as one JSON line to the log. The first FAIL
requests are answered 500, as a receiver that is down."""
import hashlib, hmac, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

secret_file, log_file, fail = sys.argv[1], sys.argv[2], int(sys.argv[3])
secret = open(secret_file, 'rb').read().rstrip(b'\r\n')
seen = {'count': 0}

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        seen['count'] += 1
        timestamp = self.headers.get('X-Rulebook-Timestamp', '')
        expected = 'sha256=' + hmac.new(secret, timestamp.encode() + b'.' + body, hashlib.sha256).hexdigest()
        failing = seen['count'] <= fail
        with open(log_file, 'a') as f:
            f.write(json.dumps({'delivery': self.headers.get('X-Rulebook-Delivery'), 'event': self.headers.get('X-Rulebook-Event'),
                                'signature_ok': hmac.compare_digest(expected, self.headers.get('X-Rulebook-Signature', '')),
                                'answered': 500 if failing else 204, 'body': json.loads(body)}) + '\n')
        self.send_response(500 if failing else 204)
        self.end_headers()

    def log_message(self, *args):
        pass

server = HTTPServer(('127.0.0.1', 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
