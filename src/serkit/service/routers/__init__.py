"""One router per resource: ``predict`` (POST /v1/predict), ``info`` (/health, /v1/model), ``page`` (/)."""
