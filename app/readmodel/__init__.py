"""The read model: voice facts and daily rollups, written with the items they count."""
