"""The Sunset Board: the record as static files (pages, JSON API, Atom, iCal, badges) any static host can serve.

`board.load_board` reads the record through the read services (the one I/O step); `render.render_board` turns
it into {path: bytes} (pure); `write.write_site` writes only the files whose bytes changed.
"""
