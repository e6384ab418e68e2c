"""convex-test's explicitTableNames.ts: db methods given the table name first."""

from convex_py import mutation


async def _insert(ctx):
    return await ctx.db.insert("messages", {"author": "Nicolas", "body": "Hello world"})


@mutation(args={})
async def correctUsage(ctx, args):
    doc_id = await _insert(ctx)
    await ctx.db.get("messages", doc_id)
    await ctx.db.patch("messages", doc_id, {"body": "Hello, world!"})
    await ctx.db.replace("messages", doc_id, {"author": "Nicolas Ettlin", "body": "Replaced task"})
    await ctx.db.delete("messages", doc_id)


@mutation(args={})
async def getWrongTable(ctx, args):
    await ctx.db.get("otherTable", await _insert(ctx))


@mutation(args={})
async def patchWrongTable(ctx, args):
    await ctx.db.patch("otherTable", await _insert(ctx), {})


@mutation(args={})
async def replaceWrongTable(ctx, args):
    await ctx.db.replace("otherTable", await _insert(ctx), {"author": "Nicolas Ettlin", "body": "Replaced task"})


@mutation(args={})
async def deleteWrongTable(ctx, args):
    await ctx.db.delete("otherTable", await _insert(ctx))
