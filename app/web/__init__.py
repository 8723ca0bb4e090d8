"""Leadership pages: the journey story and one page per stage, server-rendered HTML
(Jinja2 templates in `templates/`, charts as inline SVG), from the story service's
domain objects only, so every number on a page is the API's number."""
