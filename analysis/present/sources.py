"""Source lines for the charts: each names the publisher and the dataset, never a file path."""

from __future__ import annotations

SOURCE_VICTIMS = "Metropolitan Police Service, homicide victims (London Datastore)"
SOURCE_OFFENCES = "Metropolitan Police Service, recorded crime by borough (London Datastore)"
SOURCE_PUBLISHED = "Met statements on homicides in London, as reported (whole years without open records)"
SOURCE_POPULATION = "ONS mid-year population estimates"
SOURCE_ONS_RATES = "ONS, Homicide in England and Wales (Home Office Homicide Index)"
SOURCE_WORKFORCE = "Home Office, police workforce open data (31 March 2007–2023)"
SOURCE_PUBLISHED_WORKFORCE = "Home Office and Met figures as published (Hansard, press)"
SOURCE_ARRESTS = "Home Office, police powers and procedures: arrests (via lesscrime.info)"
SOURCE_CLAIMS = "the news story's claims, checked against the sources above"
CI_LABEL = "95% exact Poisson interval"
