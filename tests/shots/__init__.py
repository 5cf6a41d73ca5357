"""Shots built with bpy at test time, laid out as artists lay them out."""
