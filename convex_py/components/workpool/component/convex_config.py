"""The work pool component (install with `app.use(workpool, name="emailPool")`)."""

from convex_py import define_component

workpool = define_component("workpool")
