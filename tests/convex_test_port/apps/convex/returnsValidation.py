"""convex-test's returnsValidation.ts."""

from convex_py import action, mutation, query, v

_FIELDS = {
    "_id": v.id("messages"),
    "author": v.string(),
    "body": v.string(),
    "embedding": v.optional(v.array(v.number())),
    "score": v.optional(v.number()),
}
INCOMPLETE = v.object(_FIELDS)  # no _creationTime, which every document has
COMPLETE = v.object({**_FIELDS, "_creationTime": v.number()})


@query(args={}, returns=v.union(v.null(), INCOMPLETE))
async def queryWithIncompleteReturnValidator(ctx, args):
    return await ctx.db.query("messages").first()


@query(args={}, returns=v.union(v.null(), COMPLETE))
async def queryWithCorrectReturnValidator(ctx, args):
    return await ctx.db.query("messages").first()


@query(args={}, returns=v.number())
async def queryReturningNumber(ctx, args):
    return 42


@query(args={}, returns=v.string())
async def queryReturningWrongType(ctx, args):
    return 42


@mutation(args={"author": v.string(), "body": v.string()}, returns=INCOMPLETE)
async def mutationWithIncompleteReturnValidator(ctx, args):
    id = await ctx.db.insert("messages", args)
    return await ctx.db.get(id)


@mutation(args={"author": v.string(), "body": v.string()}, returns=COMPLETE)
async def mutationWithCorrectReturnValidator(ctx, args):
    id = await ctx.db.insert("messages", args)
    return await ctx.db.get(id)


@query(args={})
async def queryWithoutReturnValidator(ctx, args):
    return await ctx.db.query("messages").first()


@query(args={}, returns=v.array(INCOMPLETE))
async def queryReturningArrayWithIncompleteValidator(ctx, args):
    return await ctx.db.query("messages").collect()


@action(args={}, returns=v.object({"name": v.string()}))
async def actionWithIncompleteReturnValidator(ctx, args):
    return {"name": "test", "extraField": "unexpected"}


@action(args={}, returns=v.object({"name": v.string(), "value": v.number()}))
async def actionWithCorrectReturnValidator(ctx, args):
    return {"name": "test", "value": 42}
