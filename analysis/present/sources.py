"""Source lines for the charts: each names the publisher and the dataset."""

from __future__ import annotations

SOURCE_VICTIMS = "MPS homicide victims open data (London Datastore)"
SOURCE_PUBLISHED = "Met statements for whole-year totals without open data (data/published_figures.csv)"
SOURCE_POPULATION = "ONS mid-year population estimates"
SOURCE_WORKFORCE = "Home Office police workforce open data (31 March 2007–2023)"
SOURCE_PUBLISHED_WORKFORCE = "published figures: Hansard, MPS, Home Office as reported (data/published_figures.csv)"
SOURCE_ARRESTS = "Home Office arrests open data (Police powers and procedures), via lesscrime.info"
CI_LABEL = "95% exact Poisson interval"
