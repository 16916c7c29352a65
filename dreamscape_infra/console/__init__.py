"""The read-only web console of `serve`: its JSON views, lag history, routes and static page."""
