from convex_py import http_router

from .messages import getByAuthor, getByAuthorPathSuffix, postMessage

http = http_router()

http.route(path="/postMessage", method="POST", handler=postMessage)

# Define additional routes
http.route(path="/getMessagesByAuthor", method="GET", handler=getByAuthor)

# Define a route using a path prefix
http.route(
    # Will match /getAuthorMessages/User+123 and /getAuthorMessages/User+234 etc.
    path_prefix="/getAuthorMessages/",
    method="GET",
    handler=getByAuthorPathSuffix,
)
