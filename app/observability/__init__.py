"""What an operator watches a running Listening Path by: Prometheus metrics
(`metrics`, `queue_depth`, `middleware`, served by `router`) and log lines a log
store can index (`logs`)."""
