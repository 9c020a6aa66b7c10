"""Trygg: incident reporting and case handling for violence, threats and harassment."""
