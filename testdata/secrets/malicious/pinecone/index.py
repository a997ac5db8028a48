from pinecone import Pinecone

pc = Pinecone(api_key="pcsk_0sGrR3_UPUDMsPHGIHZcCeurYOPz0aVQhhzyzj4RDWldyRSg5CZBMYjffqkMWEffth0lVr")
