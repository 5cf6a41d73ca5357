"""Every entry point of studiobot, above the bot, the backend and the render image: each Lambda handler and the
render node's main, one thin module per function, and `wiring`, the one composition root they build from.

Why a package of its own: a handler inside a domain package had to import the composition root, which imports
every domain, so arrows ran back up inside `backend/`; and the render image built its worker itself, a second
root. Here the arrows point one way: `entry` imports `bot`, `backend` and (lazily, where a render runs)
`blender_image`; none of them imports `entry`.
"""
