"""Coffee meetings (kaffemøder): offers, meeting requests, meetings."""
