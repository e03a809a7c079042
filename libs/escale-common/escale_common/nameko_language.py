"""The caller's language for the length of a nameko worker.

The gateway sends ``Accept-Language`` as nameko's ``language`` context data;
this provider makes it current (``wording.Catalogue.speaking``) while the
worker runs, so the domain errors it raises are worded in it; French when
none is given. A service binds it to its catalogue:

    class CallerLanguage(nameko_language.CallerLanguage):
        catalogue = messages.CATALOGUE
"""

from __future__ import annotations

from nameko.extensions import DependencyProvider

from .wording import Catalogue


class CallerLanguage(DependencyProvider):
    catalogue: Catalogue  # set by each service's subclass

    def setup(self):
        self._tokens = {}

    def worker_setup(self, worker_ctx):
        self._tokens[worker_ctx] = self.catalogue.speaking(worker_ctx.data.get("language"))

    def worker_teardown(self, worker_ctx):
        token = self._tokens.pop(worker_ctx, None)
        if token is not None:
            self.catalogue.reset(token)

    def get_dependency(self, worker_ctx):
        return self.catalogue.current_language
