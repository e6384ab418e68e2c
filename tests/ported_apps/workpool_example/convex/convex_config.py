from convex_py import define_app
from convex_py.components.workpool import workpool

app = define_app()
app.use(workpool, {"name": "smallPool"})
app.use(workpool, {"name": "bigPool"})
app.use(workpool, {"name": "serializedPool"})
